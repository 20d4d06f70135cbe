//! Ctrl-C on Windows: `ctrl_c()` registers a console control handler while a waiter
//! lives, and the future waits (it is not ready before any Ctrl-C). Delivering a real
//! `CTRL_C_EVENT` is not done here: `GenerateConsoleCtrlEvent` sends it to every
//! process of the console, `cargo` included, and to no single process group
//! (Microsoft's documentation of `GenerateConsoleCtrlEvent`: with a nonzero group id
//! "the CTRL+C signal will not be received by processes within the specified process
//! group"). Unix's delivery test is `signal_ctrl_c.rs`.
#![cfg(windows)]

use std::pin::pin;
use std::task::Poll;

mod common;

#[test]
fn a_waiter_registers_the_handler_and_waits_until_it_is_dropped() {
    assert_eq!(clearloop::signal::waiting(), 0);
    let (waker, woken) = common::counting_waker();
    {
        let mut stop = pin!(clearloop::signal::ctrl_c());
        assert_eq!(clearloop::signal::waiting(), 1);
        assert!(matches!(
            common::poll_once(stop.as_mut(), &waker),
            Poll::Pending
        ));
        let second = clearloop::signal::ctrl_c();
        assert_eq!(clearloop::signal::waiting(), 2);
        drop(second);
        assert_eq!(clearloop::signal::waiting(), 1);
    }
    assert_eq!(
        clearloop::signal::waiting(),
        0,
        "the last waiter removes the handler"
    );
    assert_eq!(woken.count(), 0);
}
