//! `join!` and `try_join!`: a fixed set of futures of different types, concurrently.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

/// A tuple of futures that can be joined; implemented for tuples of 1 to 8 futures. Use it
/// through [`join!`](crate::join) and [`try_join!`](crate::try_join).
pub trait JoinTuple {
    /// The tuple of outputs.
    type Output;
    /// Runs every future concurrently; resolves to all outputs once all are done.
    fn join_all(self) -> impl Future<Output = Self::Output>;
}

/// A tuple of futures returning `Result<_, E>` that can be joined failing fast.
pub trait TryJoinTuple {
    /// The tuple of `Ok` outputs.
    type Output;
    /// The shared error type.
    type Error;
    /// Runs every future concurrently; the first `Err` drops (cancels) the others and is
    /// returned, otherwise all `Ok` outputs.
    fn try_join_all(self) -> impl Future<Output = Result<Self::Output, Self::Error>>;
}

macro_rules! impl_join_tuple {
    ($(($fut:ident, $out:ident, $slot:ident)),+) => {
        impl<$($fut: Future),+> JoinTuple for ($($fut,)+) {
            type Output = ($($fut::Output,)+);

            #[allow(non_snake_case)]
            fn join_all(self) -> impl Future<Output = Self::Output> {
                async move {
                    let ($($fut,)+) = self;
                    $(let mut $fut = pin!($fut); let mut $slot = None;)+
                    poll_fn(|cx| {
                        let mut done = true;
                        $(
                            if $slot.is_none() {
                                match $fut.as_mut().poll(cx) {
                                    Poll::Ready(v) => $slot = Some(v),
                                    Poll::Pending => done = false,
                                }
                            }
                        )+
                        if done { Poll::Ready(()) } else { Poll::Pending }
                    })
                    .await;
                    ($($slot.expect("joined"),)+)
                }
            }
        }

        impl<E, $($out,)+ $($fut: Future<Output = Result<$out, E>>),+> TryJoinTuple for ($($fut,)+) {
            type Output = ($($out,)+);
            type Error = E;

            #[allow(non_snake_case)]
            fn try_join_all(self) -> impl Future<Output = Result<Self::Output, E>> {
                async move {
                    let ($($fut,)+) = self;
                    $(let mut $fut = pin!($fut); let mut $slot = None;)+
                    poll_fn(|cx| {
                        let mut done = true;
                        $(
                            if $slot.is_none() {
                                match $fut.as_mut().poll(cx) {
                                    Poll::Ready(Ok(v)) => $slot = Some(v),
                                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                                    Poll::Pending => done = false,
                                }
                            }
                        )+
                        if done { Poll::Ready(Ok(())) } else { Poll::Pending }
                    })
                    .await?;
                    Ok(($($slot.expect("joined"),)+))
                }
            }
        }
    };
}

/// `impl_join_tuple!` for every prefix of the list: tuples of 1 to 8 futures.
macro_rules! impl_join_tuples {
    (@ [$($done:tt),+]) => {
        impl_join_tuple!($($done),+);
    };
    (@ [$($done:tt),+] $next:tt $(, $rest:tt)*) => {
        impl_join_tuple!($($done),+);
        impl_join_tuples!(@ [$($done,)+ $next] $($rest),*);
    };
    ($first:tt $(, $rest:tt)*) => {
        impl_join_tuples!(@ [$first] $($rest),*);
    };
}

impl_join_tuples!(
    (A, OA, a),
    (B, OB, b),
    (C, OC, c),
    (D, OD, d),
    (F, OF, f),
    (G, OG, g),
    (H, OH, h),
    (I, OI, i)
);

/// Awaits up to 8 futures of different types concurrently, in the current task, and evaluates
/// to the tuple of their outputs (asyncio's `gather` over coroutines, tokio's `join!`).
///
/// ```
/// weft::run(async {
///     let (n, s) = weft::join!(async { 1 }, async { "two" });
///     assert_eq!((n, s), (1, "two"));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::future::JoinTuple::join_all(($($fut,)+)).await
    };
}

/// Like [`join!`], for futures returning `Result<_, E>`: the first error cancels (drops) the
/// others and is the result; otherwise `Ok` of the tuple of outputs.
///
/// ```
/// weft::run(async {
///     let ok: Result<(i32, i32), &str> = weft::try_join!(async { Ok(1) }, async { Ok(2) });
///     assert_eq!(ok, Ok((1, 2)));
///     let failed: Result<(i32, i32), &str> =
///         weft::try_join!(async { Err("no") }, std::future::pending::<Result<i32, &str>>());
///     assert_eq!(failed, Err("no"));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),+ $(,)?) => {
        $crate::future::TryJoinTuple::try_join_all(($($fut,)+)).await
    };
}
