//! Content-Encoding: gzip and deflate bodies, decoded with a cap so that a small compressed
//! body cannot expand into gigabytes.

use std::io::Read;

use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};

use super::error::{ErrorKind, FetchError};

/// Decodes `body` as `encoding` says (the Content-Encoding header, if any), producing at most
/// `max` bytes.
pub fn decode(body: Vec<u8>, encoding: Option<&str>, max: usize) -> Result<Vec<u8>, FetchError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body),
        Some("gzip") | Some("x-gzip") => read_capped(GzDecoder::new(&body[..]), max),
        // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate; browsers
        // accept both, and so does this.
        Some("deflate") => read_capped(ZlibDecoder::new(&body[..]), max)
            .or_else(|_| read_capped(DeflateDecoder::new(&body[..]), max)),
        Some(other) => Err(FetchError::new(
            ErrorKind::Decode,
            format!("unsupported Content-Encoding {other:?}"),
        )),
    }
}

fn read_capped(reader: impl Read, max: usize) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|err| {
            FetchError::new(ErrorKind::Decode, format!("cannot decode the body: {err}"))
        })?;
    if out.len() > max {
        return Err(FetchError::new(
            ErrorKind::TooLarge,
            format!("decoded body exceeds the {max}-byte limit"),
        ));
    }
    Ok(out)
}
