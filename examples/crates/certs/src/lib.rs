//! A throwaway certificate authority for the https demos and tests: made at run time with
//! rcgen, so no key is ever committed and nothing expires in the repository.
//!
//! ```
//! let ca = demo_certs::TestCa::new("weft demo CA");
//! let server = ca.issue(&["localhost", "127.0.0.1"]);
//! assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(server.key_pem.contains("PRIVATE KEY"));
//! ```

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

/// A certificate authority with its key, able to issue server certificates.
pub struct TestCa {
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate (PEM, with the chain to the CA) and its private key (PEM).
#[derive(Clone, Debug)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
}

impl TestCa {
    /// A new CA named `name`, valid from yesterday for ten years.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names to check");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        valid_for_years(&mut params, 10);
        let key = KeyPair::generate().expect("generating a key pair");
        let cert = params.self_signed(&key).expect("self-signing the CA");
        TestCa {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA's certificate, PEM: what a client trusts (`--ca-file`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's own certificate and key as if they were a server's: the misconfiguration of
    /// a server that presents its self-signed CA (`openssl req -x509`) as its certificate.
    pub fn as_server_certificate(&self) -> Issued {
        Issued {
            cert_pem: self.cert_pem.clone(),
            key_pem: self.key_pem.clone(),
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid for a year.
    pub fn issue(&self, names: &[&str]) -> Issued {
        self.issue_with(names, |params| valid_for_years(params, 1))
    }

    /// A server certificate for `names` that expired in 2021.
    pub fn issue_expired(&self, names: &[&str]) -> Issued {
        self.issue_with(names, |params| {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        })
    }

    fn issue_with(&self, names: &[&str], dates: impl FnOnce(&mut CertificateParams)) -> Issued {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid subject names");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        dates(&mut params);
        let key = KeyPair::generate().expect("generating a key pair");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("signing with the CA");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// Valid from January 1 of last year (safely in the past, whatever the clock's skew) until
/// January 1, `years` years from now.
fn valid_for_years(params: &mut CertificateParams, years: i32) {
    const SECONDS_PER_YEAR: u64 = 365 * 24 * 3600 + 6 * 3600;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let year = 1970 + i32::try_from(now / SECONDS_PER_YEAR).unwrap_or(0);
    params.not_before = date_time_ymd(year - 1, 1, 1);
    params.not_after = date_time_ymd(year + years, 1, 1);
}
