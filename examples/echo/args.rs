//! A tiny `--flag value` parser for the echo examples.

use std::str::FromStr;

/// The value after `--name`, parsed, or `default`. Exits with a message on a bad value.
pub fn get<T: FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    match args.iter().position(|a| *a == flag) {
        None => default,
        Some(i) => match args.get(i + 1).map(|v| v.parse()) {
            Some(Ok(value)) => value,
            _ => {
                eprintln!("{flag} needs a valid value");
                std::process::exit(2);
            }
        },
    }
}
