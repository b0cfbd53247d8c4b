//! `#[weft::main]` and `#[weft::test]`: an `async fn` run on a fresh weft runtime. Use them
//! through the `weft` crate (`weft::main`, `weft::test`); what they expand to is public API
//! too: [`weft::run`] and `weft::testing::Test`.
//!
//! Misuse is a compile error that points at the code at fault:
//!
//! ```compile_fail
//! #[weft::test] // error: #[weft::test] goes on an `async fn`
//! fn not_async() {}
//! ```
//!
//! ```compile_fail
//! #[weft::test(pasued)] // error: unknown option `pasued`
//! async fn typo() {}
//! ```
//!
//! ```compile_fail
//! #[weft::test(time_limit = "ten seconds")] // error: a duration like "500ms", "10s" or "2m"
//! async fn bad_limit() {}
//! ```
//!
//! ```compile_fail
//! #[weft::main(paused)] // error: #[weft::main] takes no options
//! async fn main() {}
//! ```
//!
//! ```compile_fail
//! #[weft::test(cancel_sweep)] // error: a cancel_sweep test takes the run's `Cancel`
//! async fn no_cancel() {}
//! ```
//!
//! [`weft::run`]: https://docs.rs/weft/latest/weft/fn.run.html

mod options;

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Block, ItemFn, Signature, Visibility, parse_macro_input};

use options::TestOptions;

/// Runs `async fn main` on a weft runtime, as `weft::run` would: it may return a `Result`,
/// and `WEFT_DEBUG`, `WEFT_TRACE` and `WEFT_SEED` work as for any runtime.
///
/// ```
/// #[weft::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     weft::time::sleep(std::time::Duration::from_millis(1)).await;
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function = parse_macro_input!(item as ItemFn);
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(attr, "#[weft::main] takes no options")
            .into_compile_error()
            .into();
    }
    let (attrs, vis, sig, block) = match made_sync(function, "#[weft::main]") {
        Ok(parts) => parts,
        Err(error) => return error.into_compile_error().into(),
    };
    let span = block.span();
    quote_spanned! {span=>
        #(#attrs)*
        #vis #sig {
            ::weft::run(async move #block)
        }
    }
    .into()
}

/// Runs an `async fn` test on a fresh weft runtime; the test may return a `Result`.
///
/// Options, in any order:
/// - `paused`: the runtime's clock starts paused and auto-advances when the runtime is idle,
///   so sleeps and timeouts take no real time and fire in deadline order.
/// - `auto_advance = "after_idle(20ms)"` (or `"when_idle"`, the default, or `"off"`): how
///   the paused clock moves by itself (`weft::time::AutoAdvance`); implies `paused`.
///   `after_idle` lets real replies (a child process, a server on another thread) arrive
///   before a timeout fires.
/// - `seed = N`: runs the tasks woken together in the order seed `N` shuffles them into.
/// - `seeds = N`: runs the test once under each of the seeds `0..N`, and stops at the first
///   that fails. A failing seeded run prints its seed and how to replay it (`WEFT_SEED=s`
///   replaces the test's seeds).
/// - `time_limit = "10s"` (or `"500ms"`, `"2m"`): fails the test once it has run that long
///   in real time, printing what each task was waiting on.
/// - `cancel_sweep`: the test is a cancellation sweep (`weft::testing::CancelSweep`): the
///   `async fn` takes the run's `weft::testing::Cancel`, wraps the operation under test in
///   `cancel.at(..)`, and checks what must hold after a cancel. It runs once per suspension
///   point of the operation, each on a fresh runtime, and fails with the point and the
///   line that replays it. Goes with `paused` and `seed = N`.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{Instant, sleep};
///
/// #[weft::test(paused, time_limit = "5s")]
/// async fn an_hour_in_no_time() {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
///
/// // The clock jumps only after 20 ms of real idleness, so a reply on its way comes first.
/// #[weft::test(auto_advance = "after_idle(20ms)")]
/// async fn a_timeout_around_real_io() {
///     let (mut quiet, _peer) = weft::net::UnixStream::pair().unwrap();
///     let read = weft::time::timeout(Duration::from_secs(30), async {
///         weft::io::AsyncReadExt::read(&mut quiet, &mut [0; 1]).await
///     });
///     assert!(read.await.is_err(), "nothing came: the timeout fired at virtual +30 s");
/// }
///
/// // Run once per suspension point of `get`, dropped there: the item must not be lost.
/// #[weft::test(cancel_sweep, paused)]
/// async fn get_loses_nothing(cancel: weft::testing::Cancel) {
///     let queue = weft::queue::Queue::new(1);
///     let producer = queue.clone();
///     weft::spawn(async move { producer.put(7).await.unwrap() });
///     let got = cancel.at(queue.get()).await; // None: dropped at this run's point
///     assert_eq!(got.map(Result::unwrap).or(queue.try_get().ok()), Some(7));
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attr as TestOptions);
    let function = parse_macro_input!(item as ItemFn);
    if options.cancel_sweep {
        return match cancel_sweep(&options, function) {
            Ok(tokens) => tokens.into(),
            Err(error) => error.into_compile_error().into(),
        };
    }
    if let Some(argument) = function.sig.inputs.first() {
        return syn::Error::new_spanned(argument, "a #[weft::test] takes no arguments")
            .into_compile_error()
            .into();
    }
    let (attrs, vis, sig, block) = match made_sync(function, "#[weft::test]") {
        Ok(parts) => parts,
        Err(error) => return error.into_compile_error().into(),
    };
    let name = &sig.ident;
    let settings = options.settings();
    let span = block.span();
    let run = quote_spanned! {span=>
        ::weft::testing::Test::new(::std::concat!(::std::module_path!(), "::", ::std::stringify!(#name)))
            #settings
            .run(|| async move #block)
    };
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig {
            #run
        }
    }
    .into()
}

/// A `cancel_sweep` test: the `async fn` takes the run's `weft::testing::Cancel` and is the
/// sweep's scenario, run once per suspension point; a failure panics with the point and the
/// replay line. A body that returns `()` passes unless it panics; one that returns a
/// `Result` fails on `Err` too.
fn cancel_sweep(options: &TestOptions, function: ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let (attrs, vis, mut sig, block) = made_sync(function, "#[weft::test]")?;
    let mut inputs = std::mem::take(&mut sig.inputs).into_iter();
    let argument = match (inputs.next(), inputs.next()) {
        (Some(syn::FnArg::Typed(argument)), None) => argument,
        (_, Some(extra)) => {
            return Err(syn::Error::new_spanned(
                extra,
                "a cancel_sweep test takes one argument: the run's `weft::testing::Cancel`",
            ));
        }
        _ => {
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                "a cancel_sweep test takes the run's `weft::testing::Cancel`: \
                 `async fn name(cancel: weft::testing::Cancel)`",
            ));
        }
    };
    let (pattern, ty) = (&argument.pat, &argument.ty);
    let span = block.span();
    let scenario = match std::mem::replace(&mut sig.output, syn::ReturnType::Default) {
        syn::ReturnType::Default => quote_spanned! {span=>
            async move {
                let () = async move #block.await;
                ::std::result::Result::<(), ::std::convert::Infallible>::Ok(())
            }
        },
        syn::ReturnType::Type(..) => quote_spanned! {span=> async move #block },
    };
    let name = &sig.ident;
    let settings = options.sweep_settings();
    Ok(quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig {
            let sweep = ::weft::testing::CancelSweep::new(
                ::std::concat!(::std::module_path!(), "::", ::std::stringify!(#name))
            ) #settings;
            if let ::std::result::Result::Err(failure) = sweep.run(|#pattern: #ty| #scenario) {
                ::std::panic!("{failure}");
            }
        }
    })
}

/// The parts of an `async fn`, its signature made synchronous (the macro's body runs the
/// future); an error at the `fn` keyword if it is not `async`.
fn made_sync(
    function: ItemFn,
    what: &str,
) -> syn::Result<(Vec<Attribute>, Visibility, Signature, Box<Block>)> {
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            function.sig.fn_token.span,
            format!("{what} goes on an `async fn`"),
        ));
    }
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    Ok((attrs, vis, sig, block))
}
