//! `#[weft::test(...)]`'s options, parsed with errors that point at the option at fault.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

#[derive(Default)]
pub(crate) struct TestOptions {
    paused: bool,
    /// `AutoAdvance`'s variant and, for `AfterIdle`, its threshold in milliseconds.
    auto_advance: Option<(AutoAdvanceMode, u64)>,
    seed: Option<u64>,
    seeds: Option<u64>,
    /// In milliseconds.
    time_limit: Option<u64>,
    /// The test is a cancellation sweep: its `async fn` takes the run's `Cancel`.
    pub(crate) cancel_sweep: bool,
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
                ("cancel_sweep", Meta::Path(_)) => options.cancel_sweep = true,
                ("auto_advance", Meta::NameValue(pair)) => {
                    options.auto_advance = Some(auto_advance(&pair.value)?);
                }
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
                (
                    "paused" | "cancel_sweep" | "seed" | "seeds" | "time_limit" | "auto_advance",
                    _,
                ) => {
                    return Err(syn::Error::new_spanned(
                        &meta,
                        "write `paused`, `cancel_sweep`, `seed = 7`, `seeds = 100`, \
                         `time_limit = \"10s\"` or `auto_advance = \"after_idle(20ms)\"`",
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
        if options.cancel_sweep
            && (options.seeds.is_some()
                || options.time_limit.is_some()
                || options.auto_advance.is_some())
        {
            return Err(syn::Error::new(
                input.span(),
                "a `cancel_sweep` test takes `paused` and `seed = N` alone (each of its runs \
                 is a fresh runtime)",
            ));
        }
        Ok(options)
    }
}

impl TestOptions {
    /// The `weft::testing::CancelSweep` builder calls these options stand for.
    pub(crate) fn sweep_settings(&self) -> TokenStream {
        let mut calls = TokenStream::new();
        if self.paused {
            calls.extend(quote!(.paused(true)));
        }
        if let Some(seed) = self.seed {
            calls.extend(quote!(.seed(#seed)));
        }
        calls
    }

    /// The `weft::testing::Test` builder calls these options stand for.
    pub(crate) fn settings(&self) -> TokenStream {
        let mut calls = TokenStream::new();
        if self.paused {
            calls.extend(quote!(.paused(true)));
        }
        if let Some((mode, ms)) = self.auto_advance {
            let mode = match mode {
                AutoAdvanceMode::Off => quote!(::weft::time::AutoAdvance::Off),
                AutoAdvanceMode::WhenIdle => quote!(::weft::time::AutoAdvance::WhenIdle),
                AutoAdvanceMode::AfterIdle => quote!(
                    ::weft::time::AutoAdvance::AfterIdle(::std::time::Duration::from_millis(#ms))
                ),
            };
            calls.extend(quote!(.auto_advance(#mode)));
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
            "unknown option {name}: #[weft::test] takes `paused`, `auto_advance = \"..\"`, \
             `seed = N`, `seeds = N`, `time_limit = \"10s\"` and `cancel_sweep`"
        ),
    )
}

/// The variants of `weft::time::AutoAdvance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AutoAdvanceMode {
    Off,
    WhenIdle,
    AfterIdle,
}

/// `"off"`, `"when_idle"` or `"after_idle(20ms)"`.
fn auto_advance(value: &Expr) -> syn::Result<(AutoAdvanceMode, u64)> {
    let error = || {
        syn::Error::new_spanned(
            value,
            "auto_advance is \"off\", \"when_idle\" or \"after_idle(20ms)\" (a duration in \
             ms, s or m)",
        )
    };
    let Expr::Lit(ExprLit {
        lit: Lit::Str(text),
        ..
    }) = value
    else {
        return Err(error());
    };
    let text = text.value();
    match text.trim() {
        "off" => Ok((AutoAdvanceMode::Off, 0)),
        "when_idle" => Ok((AutoAdvanceMode::WhenIdle, 0)),
        other => {
            let threshold = other
                .strip_prefix("after_idle(")
                .and_then(|rest| rest.strip_suffix(')'))
                .ok_or_else(error)?;
            let ms = parse_duration_ms(threshold).ok_or_else(error)?;
            Ok((AutoAdvanceMode::AfterIdle, ms))
        }
    }
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
    parse_duration_ms(&text.value()).ok_or_else(error)
}

/// `500ms`, `10s` or `2m`, in milliseconds.
fn parse_duration_ms(text: &str) -> Option<u64> {
    let (number, per_unit) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1_000)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60_000)
    } else {
        return None;
    };
    let number: u64 = number.trim().parse().ok()?;
    number.checked_mul(per_unit)
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
        let calls = parse("paused, auto_advance = \"after_idle(20ms)\"")
            .unwrap()
            .settings()
            .to_string();
        assert!(calls.contains("AfterIdle"), "{calls}");
        assert!(calls.contains("from_millis (20u64)"), "{calls}");
        assert_eq!(
            parse("auto_advance = \"off\"").unwrap().auto_advance,
            Some((AutoAdvanceMode::Off, 0))
        );
        assert!(parse("").unwrap().settings().is_empty());
        let sweep = parse("cancel_sweep, paused, seed = 3").unwrap();
        assert!(sweep.cancel_sweep);
        let calls = sweep.sweep_settings().to_string();
        assert!(
            calls.contains("paused (true)") && calls.contains("seed (3u64)"),
            "{calls}"
        );
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
        assert!(error("auto_advance = \"sometimes\"").contains("after_idle(20ms)"));
        assert!(error("auto_advance = \"after_idle(soon)\"").contains("after_idle(20ms)"));
        assert!(error("auto_advance").contains("write `paused`"));
        assert!(error("cancel_sweep = true").contains("write `paused`"));
        assert!(error("cancel_sweep, seeds = 3").contains("`paused` and `seed = N` alone"));
        assert!(error("cancel_sweep, time_limit = \"1s\"").contains("alone"));
    }
}
