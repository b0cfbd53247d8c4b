//! weft::task::ContextVar through the public API: Python's contextvars semantics.

use std::rc::Rc;

use weft::generator::Gen;
use weft::task::{ContextVar, Pool, ResetError, TaskGroup, yield_now};

static USER: ContextVar<&'static str> = ContextVar::with_default("user", || "nobody");
static DEPTH: ContextVar<u32> = ContextVar::new("depth");
static LOCAL: ContextVar<Rc<String>> = ContextVar::new_local("local");

#[test]
fn a_child_sees_its_parents_values_as_they_were_when_it_was_spawned() {
    weft::run(async {
        assert_eq!(USER.get(), Some("nobody"), "the default");
        assert_eq!(DEPTH.get(), None, "no default: Python's LookupError");
        USER.set("alice");
        let child = weft::spawn(async { USER.get() });
        USER.set("bob"); // after the spawn: the child keeps its copy
        assert_eq!(child.await.unwrap(), Some("alice"));
        assert_eq!(USER.get(), Some("bob"));
    });
}

#[test]
fn a_childs_set_is_invisible_to_its_parent_and_its_siblings() {
    weft::run(async {
        DEPTH.set(0);
        let writer = weft::spawn(async {
            DEPTH.set(1);
            yield_now().await;
            DEPTH.get()
        });
        let reader = weft::spawn(async {
            yield_now().await;
            yield_now().await;
            DEPTH.get()
        });
        assert_eq!(writer.await.unwrap(), Some(1));
        assert_eq!(reader.await.unwrap(), Some(0), "a sibling does not see it");
        assert_eq!(DEPTH.get(), Some(0), "nor does the parent");
    });
}

#[test]
fn grandchildren_inherit_through_their_parents() {
    weft::run(async {
        DEPTH.set(1);
        let child = weft::spawn(async {
            DEPTH.set(DEPTH.get().unwrap() + 1);
            weft::spawn(async { DEPTH.get() }).await.unwrap()
        });
        assert_eq!(child.await.unwrap(), Some(2));
    });
}

#[test]
fn task_group_and_pool_children_inherit_too() {
    weft::run(async {
        USER.set("carol");
        let group: TaskGroup<()> = TaskGroup::new();
        let in_group = group.spawn(async { Ok(USER.get()) });
        group.join().await.unwrap();
        assert_eq!(in_group.await, Some(Some("carol")));

        let pool = Pool::new(2);
        let in_pool = pool.apply(async { USER.get() }).await.unwrap();
        assert_eq!(in_pool, Some("carol"));
    });
}

#[test]
fn a_generator_runs_in_the_context_of_whoever_drives_it() {
    weft::run(async {
        let mut reader: Gen<Option<&str>> = Gen::new(|co| async move {
            loop {
                co.yield_(USER.get()).await?;
            }
        });
        USER.set("dave");
        assert_eq!(reader.next(), Some(Some("dave")));
        // Driven from another task, it reads that task's context.
        let other = weft::spawn(async move {
            USER.set("erin");
            reader.next()
        });
        assert_eq!(other.await.unwrap(), Some(Some("erin")));
        // And a set inside a generator body changes its caller's context, as in Python.
        let mut setter: Gen<()> = Gen::new(|co| async move {
            USER.set("set by the generator");
            co.yield_(()).await?;
            Ok(())
        });
        setter.next();
        assert_eq!(USER.get(), Some("set by the generator"));
    });
}

#[test]
fn spawn_blocking_carries_the_values_that_may_cross_threads() {
    weft::run(async {
        DEPTH.set(42);
        LOCAL.set(Rc::new("stays here".to_string()));
        let seen = weft::task::spawn_blocking(|| (DEPTH.get(), LOCAL.get().is_none()))
            .await
            .unwrap();
        assert_eq!(seen, (Some(42), true));
        assert_eq!(
            LOCAL.get().as_deref().map(String::as_str),
            Some("stays here")
        );
    });
}

#[test]
fn reset_puts_the_previous_value_back_and_refuses_a_foreign_token() {
    weft::run(async {
        let first = USER.set("frank");
        let second = USER.set("grace");
        assert_eq!(USER.get(), Some("grace"));
        USER.reset(second).unwrap();
        assert_eq!(USER.get(), Some("frank"));
        USER.reset(first).unwrap();
        assert_eq!(USER.get(), Some("nobody"), "back to unset: the default");

        let token = USER.set("heidi");
        let elsewhere = weft::spawn(async move { USER.reset(token) });
        assert_eq!(elsewhere.await.unwrap(), Err(ResetError::OtherContext));
        assert_eq!(USER.get(), Some("heidi"), "a refused reset changes nothing");
    });
}

#[test]
fn scope_and_scoped_set_a_value_for_exactly_their_extent() {
    weft::run(async {
        USER.set("outer");
        let inner = USER
            .scope("scoped", async {
                yield_now().await;
                let child = weft::spawn(async { USER.get() }); // spawned inside: inherits
                (USER.get(), child.await.unwrap())
            })
            .await;
        assert_eq!(inner, (Some("scoped"), Some("scoped")));
        assert_eq!(USER.get(), Some("outer"));
        assert_eq!(USER.scoped("closure", || USER.get()), Some("closure"));
        assert_eq!(USER.get(), Some("outer"));
    });
}

#[test]
fn outside_a_runtime_each_thread_has_a_context_of_its_own() {
    DEPTH.set(5);
    assert_eq!(DEPTH.get(), Some(5));
    let other = std::thread::spawn(|| DEPTH.get()).join().unwrap();
    assert_eq!(other, None);
}

#[test]
fn run_and_runtime_spawn_copy_the_callers_context_and_keep_their_sets_inside() {
    // Each test runs on a thread of its own, so this thread's context starts empty.
    static REQUEST: ContextVar<u32> = ContextVar::new("request");
    REQUEST.set(7);
    // asyncio.run(main()) copies the caller's context into main.
    let seen = weft::run(async {
        let inherited = REQUEST.get();
        REQUEST.set(8);
        let child = weft::spawn(async { REQUEST.get() }).await.unwrap();
        (inherited, child)
    });
    assert_eq!(seen, (Some(7), Some(8)));
    assert_eq!(REQUEST.get(), Some(7), "a set inside does not leak out");

    // loop.create_task from outside the loop copies the caller's context too.
    let rt = weft::Runtime::new().unwrap();
    REQUEST.set(9);
    let early = rt.spawn(async { REQUEST.get() });
    REQUEST.set(10);
    let (early, main) = rt.block_on(async { (early.await.unwrap(), REQUEST.get()) });
    assert_eq!(early, Some(9), "the value when the task was made");
    assert_eq!(main, Some(10));
}

#[test]
fn get_or_falls_back_to_the_given_default_only_where_nothing_is_set() {
    static NAME: ContextVar<&'static str> = ContextVar::new("name");
    weft::run(async {
        assert_eq!(NAME.get_or("anonymous"), "anonymous");
        assert_eq!(
            USER.get_or("ignored"),
            "nobody",
            "the variable's own default first"
        );
        NAME.set("ada");
        assert_eq!(NAME.get_or("anonymous"), "ada");
    });
}

#[test]
fn abort_tasks_ends_every_task_that_inherited_the_value_and_no_other() {
    static TENANT: ContextVar<u32> = ContextVar::new("tenant");
    weft::run(async {
        let grandchildren = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let spawn_tree = |tenant: u32| {
            let grandchildren = grandchildren.clone();
            TENANT.scoped(tenant, move || {
                weft::spawn(async move {
                    // Spawned by the child, with no scope of its own: inherits the tenant.
                    let grandchild = weft::spawn(std::future::pending::<()>());
                    grandchildren.borrow_mut().push((tenant, grandchild));
                    std::future::pending::<()>().await
                })
            })
        };
        let (one, two) = (spawn_tree(1), spawn_tree(2));
        weft::yield_now().await;
        assert_eq!(
            TENANT.abort_tasks(|&t| t == 1),
            2,
            "the child and its child"
        );
        assert!(one.await.unwrap_err().is_cancelled());
        let grandchildren = std::mem::take(&mut *grandchildren.borrow_mut());
        for (tenant, grandchild) in grandchildren {
            if tenant == 1 {
                assert!(grandchild.await.unwrap_err().is_cancelled());
            } else {
                assert!(!grandchild.is_finished());
            }
        }
        assert!(!two.is_finished());
        assert_eq!(TENANT.abort_tasks(|&t| t == 1), 0, "none left");
        assert_eq!(TENANT.abort_tasks(|&t| t == 2), 2);
    });
}

#[test]
fn a_runtime_dropped_while_tasks_are_paused_ends_them() {
    static GROUP: ContextVar<u8> = ContextVar::new("group");
    let ended = std::rc::Rc::new(std::cell::Cell::new(false));
    struct Flag(std::rc::Rc<std::cell::Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let rt = weft::Runtime::new().unwrap();
    let flag = Flag(ended.clone());
    let paused = rt.block_on(async move {
        GROUP.scoped(1, || {
            weft::spawn(async move {
                let _flag = flag;
                loop {
                    weft::yield_now().await;
                }
            })
        });
        weft::yield_now().await;
        let paused = GROUP.pause_tasks(|&g| g == 1);
        weft::yield_now().await;
        paused
    });
    // Not resumed: the runtime ends with the task set aside.
    drop(rt);
    assert!(
        ended.get(),
        "the paused task's future was dropped with the runtime"
    );
    drop(paused);
}
