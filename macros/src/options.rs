//! `#[weft::test(...)]`'s options, parsed with errors that point at the option at fault.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

#[derive(Default)]
pub(crate) struct TestOptions {
    paused: bool,
    seed: Option<u64>,
    seeds: Option<u64>,
    /// In milliseconds.
    time_limit: Option<u64>,
}

impl Parse for TestOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = TestOptions::default();
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated(input)?;
        for meta in metas {
            let Some(name) = meta.path().get_ident().map(ToString::to_string) else {
                return Err(unknown(&meta));
            };
            match (name.as_str(), &meta) {
                ("paused", Meta::Path(_)) => options.paused = true,
                ("seed", Meta::NameValue(pair)) => options.seed = Some(integer(&pair.value)?),
                ("seeds", Meta::NameValue(pair)) => {
                    let count = integer(&pair.value)?;
                    if count == 0 {
                        return Err(syn::Error::new_spanned(
                            &pair.value,
                            "a sweep needs at least one seed",
                        ));
                    }
                    options.seeds = Some(count);
                }
                ("time_limit", Meta::NameValue(pair)) => {
                    options.time_limit = Some(duration_ms(&pair.value)?);
                }
                ("paused" | "seed" | "seeds" | "time_limit", _) => {
                    return Err(syn::Error::new_spanned(
                        &meta,
                        "write `paused`, `seed = 7`, `seeds = 100` or `time_limit = \"10s\"`",
                    ));
                }
                _ => return Err(unknown(&meta)),
            }
        }
        if let (Some(_), Some(_)) = (options.seed, options.seeds) {
            return Err(syn::Error::new(
                input.span(),
                "give `seed` (one order) or `seeds` (a sweep), not both",
            ));
        }
        Ok(options)
    }
}

impl TestOptions {
    /// The `weft::testing::Test` builder calls these options stand for.
    pub(crate) fn settings(&self) -> TokenStream {
        let mut calls = TokenStream::new();
        if self.paused {
            calls.extend(quote!(.paused(true)));
        }
        if let Some(seed) = self.seed {
            calls.extend(quote!(.seed(#seed)));
        }
        if let Some(seeds) = self.seeds {
            calls.extend(quote!(.seeds(#seeds)));
        }
        if let Some(ms) = self.time_limit {
            calls.extend(quote!(.time_limit(::std::time::Duration::from_millis(#ms))));
        }
        calls
    }
}

fn unknown(meta: &Meta) -> syn::Error {
    let name = meta
        .path()
        .get_ident()
        .map_or_else(|| "this".to_owned(), |ident| format!("`{ident}`"));
    syn::Error::new_spanned(
        meta.path(),
        format!(
            "unknown option {name}: #[weft::test] takes `paused`, `seed = N`, `seeds = N` and \
             `time_limit = \"10s\"`"
        ),
    )
}

fn integer(value: &Expr) -> syn::Result<u64> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse(),
        _ => Err(syn::Error::new_spanned(value, "expected a whole number")),
    }
}

/// `"500ms"`, `"10s"` or `"2m"`, in milliseconds.
fn duration_ms(value: &Expr) -> syn::Result<u64> {
    let error = || syn::Error::new_spanned(value, "a duration like \"500ms\", \"10s\" or \"2m\"");
    let Expr::Lit(ExprLit {
        lit: Lit::Str(text),
        ..
    }) = value
    else {
        return Err(error());
    };
    let text = text.value();
    let (number, per_unit) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1_000)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60_000)
    } else {
        return Err(error());
    };
    let number: u64 = number.trim().parse().map_err(|_| error())?;
    number.checked_mul(per_unit).ok_or_else(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> syn::Result<TestOptions> {
        syn::parse_str(text)
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("{text:?} was accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn options_become_builder_calls() {
        let options = parse("paused, seeds = 100, time_limit = \"2m\"").unwrap();
        let calls = options.settings().to_string();
        assert!(calls.contains("paused (true)"), "{calls}");
        assert!(calls.contains("seeds (100u64)"), "{calls}");
        assert!(calls.contains("from_millis (120000u64)"), "{calls}");
        assert_eq!(
            parse("time_limit = \"250ms\"").unwrap().time_limit,
            Some(250)
        );
        assert_eq!(parse("seed = 7").unwrap().seed, Some(7));
        assert!(parse("").unwrap().settings().is_empty());
    }

    #[test]
    fn misuse_is_named() {
        assert!(error("pasued").contains("unknown option `pasued`"));
        assert!(error("paused = true").contains("write `paused`"));
        assert!(error("seed = \"7\"").contains("whole number"));
        assert!(error("seeds = 0").contains("at least one seed"));
        assert!(error("time_limit = \"10 parsecs\"").contains("a duration like"));
        assert!(error("time_limit = 10").contains("a duration like"));
        assert!(error("seed = 1, seeds = 5").contains("not both"));
    }
}
