//! Waiting for Ctrl-C (SIGINT) on the runtime, with no extra thread: signal-hook writes a byte
//! into a socket pair from the signal handler, and the runtime reads the other end.

use std::io::{self, Read};

use weft::io::Async;

/// Resolves at the next SIGINT.
pub async fn ctrl_c() -> io::Result<()> {
    let (reader, writer) = mio::net::UnixStream::pair()?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, writer)?;
    let reader = Async::new(reader)?;
    let mut byte = [0u8; 1];
    reader.read_with(|mut r| r.read(&mut byte)).await?;
    Ok(())
}
