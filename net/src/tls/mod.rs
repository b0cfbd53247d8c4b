//! TLS for weft's streams: rustls (with its `ring` provider) through futures-rustls, behind
//! the cargo feature `tls`.
//!
//! [`TlsConnector`] makes client connections: it checks the server's certificate against the
//! webpki roots (Mozilla's, compiled in) or a CA you give it, and sends the host name (SNI).
//! [`TlsAcceptor`] serves them, from a certificate and key in PEM files. Both bound the
//! handshake by a timeout (10 s unless set), and both give streams that implement the
//! `futures-io` traits, so [`AsyncReadExt`](crate::io::AsyncReadExt),
//! [`BufReader`](crate::io::BufReader) and hyper (feature `hyper`) work on them as on a
//! `TcpStream`.
//!
//! A peer that ends the connection without TLS's `close_notify` makes the next read fail
//! with `UnexpectedEof`, never a silent short read: truncation is an error.
//!
//! ```no_run
//! use weft::io::{AsyncReadExt, AsyncWriteExt};
//! use weft::net::tls::TlsConnector;
//!
//! weft::run(async {
//!     let tls = TlsConnector::new();
//!     let mut stream = tls.connect_to("example.com", 443).await?;
//!     stream
//!         .write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
//!         .await?;
//!     let mut page = Vec::new();
//!     stream.read_to_end(&mut page).await?;
//!     println!("{}", String::from_utf8_lossy(&page));
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_rustls::rustls::pki_types::pem::PemObject;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use weft_runtime::time::timeout;

use crate::{TcpStream, ToSocketAddrs};

mod maybe;
mod problem;

pub use maybe::MaybeTlsStream;
pub use problem::{CertificateProblem, HandshakeError};

pub use futures_rustls::rustls;

/// A client-side TLS stream over `S` (made by [`TlsConnector`]); its
/// [`alpn_protocol`](TlsStream::alpn_protocol) says what ALPN chose.
pub type ClientTlsStream<S> = TlsStream<futures_rustls::client::TlsStream<S>>;
/// A server-side TLS stream over `S` (made by [`TlsAcceptor`]).
pub type ServerTlsStream<S> = TlsStream<futures_rustls::server::TlsStream<S>>;

/// A TLS stream: futures-rustls's, with reads that fill the caller's buffer with every
/// record already decrypted, or readable without waiting, instead of one record per read.
///
/// futures-rustls returns at most about one TLS record (16 KiB) per read. A program that
/// echoes or forwards what it reads then writes one record at a time, one `writev` each,
/// where tokio-rustls hands over several: the TLS benchmark's streaming test made four times
/// as many system calls (1,283 `writev`s against 325 for 20 MiB) until reads filled the
/// buffer. Everything else is futures-rustls's, reached through `Deref` (`get_ref` gives the
/// socket and the rustls connection, for ALPN, SNI and the rest).
#[derive(Debug)]
pub struct TlsStream<T> {
    inner: T,
}

impl<T> std::ops::Deref for TlsStream<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> std::ops::DerefMut for TlsStream<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<S> ClientTlsStream<S> {
    /// The application protocol the server chose from those offered (ALPN: `b"h2"`,
    /// `b"http/1.1"`), if any: Python's `selected_alpn_protocol()`.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.inner.get_ref().1.alpn_protocol()
    }
}

impl<S> ServerTlsStream<S> {
    /// The application protocol chosen for this client (ALPN), if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.inner.get_ref().1.alpn_protocol()
    }

    /// The server name the client asked for (SNI), if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        self.inner.get_ref().1.server_name()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TlsStream<T> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        use std::task::Poll;
        let inner = &mut self.get_mut().inner;
        let mut filled = 0;
        while filled < buf.len() {
            match std::pin::Pin::new(&mut *inner).poll_read(cx, &mut buf[filled..]) {
                Poll::Ready(Ok(0)) => break, // the end of the stream (close_notify)
                Poll::Ready(Ok(n)) => filled += n,
                // What came before an error is handed over first; the error comes back at
                // the next read, as the stream is in the same state.
                Poll::Ready(Err(_)) | Poll::Pending if filled > 0 => break,
                other => return other,
            }
        }
        Poll::Ready(Ok(filled))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TlsStream<T> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// How long a handshake may take unless set otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The crypto provider every config here is built with: rustls's `ring` backend.
///
/// rustls 0.23.48 deprecated it because ring has no post-quantum key exchange; its
/// replacement, aws-lc-rs, compiles a large C library (and needs cmake), which weft keeps out
/// of its build on purpose. The key exchange is classical (X25519, P-256, P-384); a program
/// that wants X25519MLKEM768 builds its own config on aws-lc-rs and passes it to
/// `from_config`.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes TLS client connections (asyncio's `open_connection(..., ssl=True)`, Python's
/// `ssl.create_default_context().wrap_socket`). Cheap to clone: the configuration is shared.
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    handshake_timeout: Duration,
}

impl TlsConnector {
    /// A connector that trusts the webpki roots (Mozilla's root store, compiled in), with no
    /// ALPN.
    pub fn new() -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        TlsConnector::with_roots(roots)
    }

    /// A connector that trusts exactly `roots`.
    pub fn with_roots(roots: RootCertStore) -> TlsConnector {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from_config(Arc::new(config))
    }

    /// A connector that trusts only the CA certificates in the PEM file at `path`: a private
    /// CA (Python's `cafile=`). A missing file is `NotFound`; one with no usable certificate
    /// is `InvalidInput`. Both name the file.
    pub fn with_ca_file(path: impl AsRef<Path>) -> io::Result<TlsConnector> {
        let path = path.as_ref();
        let pem = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let roots = pem_roots(&pem, &path.display().to_string())?;
        Ok(TlsConnector::with_roots(roots))
    }

    /// A connector that trusts only the CA certificates in `pem` (PEM text, one or more
    /// certificates): a private CA kept in memory, Python's `cadata=`.
    ///
    /// ```no_run
    /// // The CA as a program might hold it: from a secret store, an environment variable...
    /// let pem = std::env::var("MY_CA_PEM").unwrap();
    /// let connector = weft::net::tls::TlsConnector::with_ca_pem(pem.as_bytes())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_ca_pem(pem: &[u8]) -> io::Result<TlsConnector> {
        Ok(TlsConnector::with_roots(pem_roots(pem, "the CA PEM")?))
    }

    /// A connector built from your own rustls configuration.
    pub fn from_config(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector {
            config,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Offers these application protocols, most preferred first (ALPN: `b"h2"`,
    /// `b"http/1.1"`).
    pub fn alpn(mut self, protocols: &[&[u8]]) -> TlsConnector {
        Arc::make_mut(&mut self.config).alpn_protocols =
            protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// Fails a handshake that takes longer than `limit` with `TimedOut`.
    pub fn handshake_timeout(mut self, limit: Duration) -> TlsConnector {
        self.handshake_timeout = limit;
        self
    }

    /// Runs the client handshake over `stream`, for the server `host` (sent as SNI and
    /// checked against its certificate).
    pub async fn connect<S>(&self, host: &str, stream: S) -> io::Result<ClientTlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{host:?} is not a valid TLS server name: {e}"),
            )
        })?;
        let connector = futures_rustls::TlsConnector::from(self.config.clone());
        let handshake = connector.connect(name, stream);
        match timeout(self.handshake_timeout, handshake).await {
            Ok(Ok(stream)) => Ok(TlsStream { inner: stream }),
            Ok(Err(e)) => Err(handshake_error(host, e)),
            Err(_) => Err(timed_out(host, self.handshake_timeout)),
        }
    }

    /// Connects to `host:port` over TCP (resolving the name without blocking the loop) and
    /// runs the handshake.
    pub async fn connect_to(
        &self,
        host: &str,
        port: u16,
    ) -> io::Result<ClientTlsStream<TcpStream>> {
        let tcp = TcpStream::connect((host, port)).await?;
        let _ = tcp.set_nodelay(true);
        self.connect(host, tcp).await
    }

    /// Connects to `addr` over TCP and runs the handshake for the server name `host`.
    pub async fn connect_addr(
        &self,
        host: &str,
        addr: impl ToSocketAddrs,
    ) -> io::Result<ClientTlsStream<TcpStream>> {
        let tcp = TcpStream::connect(addr).await?;
        let _ = tcp.set_nodelay(true);
        self.connect(host, tcp).await
    }
}

impl Default for TlsConnector {
    fn default() -> TlsConnector {
        TlsConnector::new()
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn", &self.config.alpn_protocols)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// Serves TLS connections (asyncio's `start_server(..., ssl=context)`). Cheap to clone.
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
    handshake_timeout: Duration,
}

impl TlsAcceptor {
    /// An acceptor presenting the certificate chain in `cert_pem` with the private key in
    /// `key_pem` (both PEM text).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<TlsAcceptor> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("reading the certificate PEM: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| invalid(format!("reading the private key PEM: {e}")))?;
        TlsAcceptor::from_chain(chain, key)
    }

    /// An acceptor from a certificate chain file and a private key file (PEM).
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> io::Result<TlsAcceptor> {
        let (cert_path, key_path) = (cert_path.as_ref(), key_path.as_ref());
        let cert = std::fs::read(cert_path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", cert_path.display())))?;
        let key = std::fs::read(key_path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", key_path.display())))?;
        TlsAcceptor::from_pem(&cert, &key)
    }

    fn from_chain(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> io::Result<TlsAcceptor> {
        if chain.is_empty() {
            return Err(invalid("the certificate PEM holds no certificate".into()));
        }
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| invalid(format!("the certificate and key do not make a server: {e}")))?;
        Ok(TlsAcceptor::from_config(Arc::new(config)))
    }

    /// An acceptor built from your own rustls configuration.
    pub fn from_config(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            config,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Accepts these application protocols, most preferred first (ALPN).
    pub fn alpn(mut self, protocols: &[&[u8]]) -> TlsAcceptor {
        Arc::make_mut(&mut self.config).alpn_protocols =
            protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// Fails a handshake that takes longer than `limit` with `TimedOut` (so a client that
    /// connects and says nothing cannot hold a connection slot forever).
    pub fn handshake_timeout(mut self, limit: Duration) -> TlsAcceptor {
        self.handshake_timeout = limit;
        self
    }

    /// Runs the server handshake over `stream`.
    pub async fn accept<S>(&self, stream: S) -> io::Result<ServerTlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = futures_rustls::TlsAcceptor::from(self.config.clone());
        match timeout(self.handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => Ok(TlsStream { inner: stream }),
            Ok(Err(e)) => Err(handshake_error("the client", e)),
            Err(_) => Err(timed_out("the client", self.handshake_timeout)),
        }
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("alpn", &self.config.alpn_protocols)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// The CA certificates in `pem`; `source` names it in errors.
fn pem_roots(pem: &[u8], source: &str) -> io::Result<RootCertStore> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{source}: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(format!("{source}: no certificate in it")));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| invalid(format!("{source}: not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// A failed handshake, naming the peer, saying what to do about a refused certificate, and
/// keeping the cause (rustls's error) as its source.
fn handshake_error(peer: &str, error: io::Error) -> io::Error {
    let problem = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .and_then(CertificateProblem::from_rustls);
    let kind = error.kind();
    io::Error::new(
        kind,
        HandshakeError {
            peer: peer.to_owned(),
            problem,
            cause: error,
        },
    )
}

fn timed_out(peer: &str, limit: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("TLS handshake with {peer} timed out after {limit:?}"),
    )
}
