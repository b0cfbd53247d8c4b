//! Why a TLS handshake failed, for a program to act on and for a person to fix: the refused
//! certificate's problem as a value, and a message that says what to do about it.

use std::error::Error;
use std::fmt;
use std::io;

use futures_rustls::rustls;
use rustls::CertificateError as Rustls;

/// Why the peer's certificate was refused: Python's `SSLCertVerificationError.verify_code`,
/// as a value a program can match on without reading the message. Find it with
/// [`CertificateProblem::of`] on the `io::Error` a handshake returned.
///
/// ```
/// use weft::net::tls::CertificateProblem;
///
/// fn advice(err: &std::io::Error) -> &'static str {
///     match CertificateProblem::of(err) {
///         Some(CertificateProblem::UnknownIssuer) => "trust the server's CA with with_ca_file",
///         Some(CertificateProblem::Expired) => "the server must renew its certificate",
///         Some(_) => "the certificate was refused",
///         None => "not a certificate problem",
///     }
/// }
/// assert_eq!(advice(&std::io::Error::other("reset")), "not a certificate problem");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// Signed by a CA this side does not trust (a private CA, or a self-signed leaf).
    UnknownIssuer,
    /// Valid, but not for the name that was asked for.
    NameMismatch,
    /// Past its end date (or this machine's clock is ahead).
    Expired,
    /// Before its start date (or this machine's clock is behind).
    NotYetValid,
    /// A CA certificate presented as the server's own, as `openssl req -x509` makes: the
    /// server needs a leaf certificate signed by that CA.
    CaUsedAsServerCertificate,
    /// Revoked by its issuer.
    Revoked,
    /// Refused for another reason (a bad signature, a wrong purpose, ...): the message says.
    Other,
}

impl CertificateProblem {
    /// The certificate problem behind `error`, if it is a handshake's error and a certificate
    /// was refused.
    pub fn of(error: &io::Error) -> Option<CertificateProblem> {
        error
            .get_ref()?
            .downcast_ref::<HandshakeError>()?
            .certificate_problem()
    }

    /// The problem rustls reports, if it is about a certificate.
    pub(crate) fn from_rustls(error: &rustls::Error) -> Option<CertificateProblem> {
        let rustls::Error::InvalidCertificate(error) = error else {
            return None;
        };
        Some(match error {
            Rustls::UnknownIssuer => CertificateProblem::UnknownIssuer,
            Rustls::NotValidForName | Rustls::NotValidForNameContext { .. } => {
                CertificateProblem::NameMismatch
            }
            Rustls::Expired | Rustls::ExpiredContext { .. } => CertificateProblem::Expired,
            Rustls::NotValidYet | Rustls::NotValidYetContext { .. } => {
                CertificateProblem::NotYetValid
            }
            Rustls::Revoked => CertificateProblem::Revoked,
            // webpki's error comes wrapped in `Other`; its name is all that reaches us without
            // depending on webpki's version. tests/tls.rs pins it.
            Rustls::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                CertificateProblem::CaUsedAsServerCertificate
            }
            _ => CertificateProblem::Other,
        })
    }

    /// What to do about it, in a sentence.
    fn advice(self) -> &'static str {
        match self {
            CertificateProblem::UnknownIssuer => {
                "the certificate is signed by a CA this side does not trust. To trust a \
                 private CA, build the connector with TlsConnector::with_ca_file(path) or \
                 TlsConnector::with_ca_pem(bytes)"
            }
            CertificateProblem::NameMismatch => {
                "the certificate is not valid for the name asked for: connect with a name it \
                 lists in its subjectAltName, or give the server a certificate for this name"
            }
            CertificateProblem::Expired => {
                "the certificate has expired (or this machine's clock is ahead): the server \
                 needs a renewed certificate"
            }
            CertificateProblem::NotYetValid => {
                "the certificate is not valid yet (or this machine's clock is behind)"
            }
            CertificateProblem::CaUsedAsServerCertificate => {
                "the server presented a CA certificate as its own (a self-signed CA, as \
                 `openssl req -x509` makes). The server needs a leaf certificate signed by \
                 that CA, with the server's name in its subjectAltName; the client then \
                 trusts the CA (TlsConnector::with_ca_file)"
            }
            CertificateProblem::Revoked => "the certificate has been revoked by its issuer",
            CertificateProblem::Other => "the certificate was refused",
        }
    }
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateProblem::UnknownIssuer => "unknown issuer",
            CertificateProblem::NameMismatch => "name mismatch",
            CertificateProblem::Expired => "expired",
            CertificateProblem::NotYetValid => "not yet valid",
            CertificateProblem::CaUsedAsServerCertificate => "CA certificate used as a server's",
            CertificateProblem::Revoked => "revoked",
            CertificateProblem::Other => "refused",
        })
    }
}

/// A failed TLS handshake: the peer, what was wrong with its certificate (if that was it),
/// and rustls's error as the source. Inside the `io::Error` a handshake returns (`get_ref`);
/// [`CertificateProblem::of`] reads it for you.
#[derive(Debug)]
pub struct HandshakeError {
    pub(crate) peer: String,
    pub(crate) problem: Option<CertificateProblem>,
    pub(crate) cause: io::Error,
}

impl HandshakeError {
    /// What was wrong with the peer's certificate, if that is why the handshake failed.
    pub fn certificate_problem(&self) -> Option<CertificateProblem> {
        self.problem
    }

    /// The peer: the server's name, or "the client".
    pub fn peer(&self) -> &str {
        &self.peer
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLS handshake with {} failed: ", self.peer)?;
        if let Some(problem) = self.problem {
            write!(f, "{} ", problem.advice())?;
            return write!(f, "(rustls: {})", self.cause);
        }
        write!(f, "{}", self.cause)
    }
}

impl Error for HandshakeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}
