//! `select!`: the first of several futures of different types, the others dropped.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

/// Which branch of a [`select!`](crate::select) finished first, with its output. Used by the
/// macro's expansion; up to 8 branches.
#[allow(missing_docs)]
pub enum Selected<A, B = (), C = (), D = (), E = (), F = (), G = (), H = ()> {
    A(A),
    B(B),
    C(C),
    D(D),
    E(E),
    F(F),
    G(G),
    H(H),
}

/// A tuple of futures that can be raced; implemented for tuples of 1 to 8 futures. Use it
/// through [`select!`](crate::select).
pub trait SelectTuple {
    /// Which one finished, with its output.
    type Output;
    /// Polls the futures, starting at a rotating position unless `biased` (then in order), and
    /// resolves with the first to finish; the rest are dropped with the returned future.
    fn select(self, biased: bool) -> impl Future<Output = Self::Output>;
}

thread_local! {
    /// Rotates the first branch polled, so no branch of an unbiased select starves the others.
    static ROTATION: Cell<usize> = const { Cell::new(0) };
}

fn start_position(branches: usize, biased: bool) -> usize {
    if biased {
        return 0;
    }
    ROTATION.with(|r| {
        let n = r.get().wrapping_add(1);
        r.set(n);
        n % branches
    })
}

macro_rules! impl_select_tuple {
    ($count:expr; $(($fut:ident, $index:expr)),+) => {
        impl<$($fut: Future),+> SelectTuple for ($($fut,)+) {
            type Output = Selected<$($fut::Output),+>;

            #[allow(non_snake_case, clippy::modulo_one)] // the one-branch case is `% 1`
            fn select(self, biased: bool) -> impl Future<Output = Self::Output> {
                async move {
                    let ($($fut,)+) = self;
                    $(let mut $fut = pin!($fut);)+
                    let start = start_position($count, biased);
                    poll_fn(|cx| {
                        for offset in 0..$count {
                            let branch = (start + offset) % $count;
                            $(
                                if branch == $index {
                                    if let Poll::Ready(v) = $fut.as_mut().poll(cx) {
                                        return Poll::Ready(Selected::$fut(v));
                                    }
                                }
                            )+
                        }
                        Poll::Pending
                    })
                    .await
                }
            }
        }
    };
}

impl_select_tuple!(1; (A, 0));
impl_select_tuple!(2; (A, 0), (B, 1));
impl_select_tuple!(3; (A, 0), (B, 1), (C, 2));
impl_select_tuple!(4; (A, 0), (B, 1), (C, 2), (D, 3));
impl_select_tuple!(5; (A, 0), (B, 1), (C, 2), (D, 3), (E, 4));
impl_select_tuple!(6; (A, 0), (B, 1), (C, 2), (D, 3), (E, 4), (F, 5));
impl_select_tuple!(7; (A, 0), (B, 1), (C, 2), (D, 3), (E, 4), (F, 5), (G, 6));
impl_select_tuple!(8; (A, 0), (B, 1), (C, 2), (D, 3), (E, 4), (F, 5), (G, 6), (H, 7));

/// Waits for the first of up to 8 futures and runs that branch; the other futures are dropped
/// (cancelled) at that moment. Branches are polled from a rotating start so none starves the
/// others; write `biased;` first to poll them in order instead. Each pattern must be
/// irrefutable (bind the output, then `match` on it in the branch).
///
/// ```
/// use std::time::Duration;
/// use weft::time::sleep;
///
/// weft::run(async {
///     let (tx, rx) = weft::channel::oneshot::channel::<&str>();
///     weft::spawn(async move { tx.send("message").unwrap() });
///     let what = weft::select! {
///         msg = rx => format!("got {}", msg.unwrap()),
///         () = sleep(Duration::from_secs(5)) => "timed out".to_string(),
///     };
///     assert_eq!(what, "got message");
///
///     let first = weft::select! {
///         biased;
///         a = async { 1 } => a,
///         b = async { 2 } => b,
///     };
///     assert_eq!(first, 1); // biased: the first ready branch in order wins
/// });
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)+) => {
        $crate::__select_branches!(@parse true; []; [A B C D E F G H]; $($branches)+)
    };
    ($($branches:tt)+) => {
        $crate::__select_branches!(@parse false; []; [A B C D E F G H]; $($branches)+)
    };
}

/// The branch parser behind [`select!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_branches {
    (@parse $biased:tt; [$($done:tt)*]; [$variant:ident $($variants:ident)*]; $pat:pat = $fut:expr => $body:expr, $($rest:tt)+) => {
        $crate::__select_branches!(@parse $biased; [$($done)* ($variant, $pat, $fut, $body)]; [$($variants)*]; $($rest)+)
    };
    (@parse $biased:tt; [$($done:tt)*]; [$variant:ident $($variants:ident)*]; $pat:pat = $fut:expr => $body:expr $(,)?) => {
        $crate::__select_branches!(@emit $biased; $($done)* ($variant, $pat, $fut, $body))
    };
    (@emit $biased:tt; $(($variant:ident, $pat:pat, $fut:expr, $body:expr))+) => {
        match $crate::future::SelectTuple::select(($($fut,)+), $biased).await {
            $($crate::future::Selected::$variant($pat) => $body,)+
            #[allow(unreachable_patterns)]
            _ => unreachable!("select! branches have irrefutable patterns"),
        }
    };
}
