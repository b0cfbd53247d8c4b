//! `weft-ps PID --trace DURATION`: the flight recorder turned on in a running loop for that
//! long, its trace taken as Perfetto JSON, and the recorder off again. A runtime whose
//! recorder is on already (`WEFT_TRACE`, `Builder::flight_recorder`) keeps it on and gives
//! its whole ring after the same wait.

use std::time::Duration;

use crate::executor::context::with_core;

/// Events the recorder keeps while `weft-ps` traces: as many as `WEFT_TRACE`'s.
const EVENTS: usize = 1 << 20;

/// Records for `duration` and gives the trace as Chrome trace-event JSON, or an error as
/// JSON.
pub(crate) async fn record(duration: Duration) -> String {
    let Some(executor) = with_core(|core| core.cloned()) else {
        return super::serve::error("no runtime");
    };
    let observer = executor.observer();
    let started_here = observer.start_recording(EVENTS);
    let tracking = if started_here {
        // Name the tasks already alive, whose spawns the ring will not see.
        if let Some(recorder) = observer.recorder() {
            executor.for_each_task(|owned| {
                let task = owned.task();
                recorder.know(
                    task.id(),
                    task.name().map(|name| name.to_string()),
                    Some(owned.spawned_at()),
                    None,
                );
            });
        }
        executor.recheck_extras();
        Some(crate::waiters::set_tracking(true))
    } else {
        None
    };
    crate::time::sleep(duration).await;
    let trace = match observer.recorder() {
        Some(recorder) => recorder.snapshot(),
        None => return super::serve::error("the flight recorder was turned off meanwhile"),
    };
    if let Some(tracking) = tracking {
        observer.stop_recording();
        executor.recheck_extras();
        crate::waiters::set_tracking(tracking);
    }
    let mut out = Vec::new();
    match trace.write_chrome_json(&mut out) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(err) => super::serve::error(&err.to_string()),
    }
}
