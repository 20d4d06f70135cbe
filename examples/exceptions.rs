//! Slide "Récupération des exceptions": `gather(..., return_exceptions=True)`.
//!
//! ```python
//! async def get_long_message():
//!     await asyncio.sleep(2)
//!     return "Bienvenue en Python"
//! async def get_exception():
//!     await asyncio.sleep(1)
//!     raise Exception("Ceci est une erreur !")
//! async def main():
//!     task = asyncio.gather(
//!         get_long_message(),
//!         get_exception(),
//!         get_long_message(),
//!         return_exceptions=True)
//!     print(task.done())
//!     await task
//!     print(task.done(), task.result())
//! ```
//!
//! Watch the list: the exception comes back *in its place*, between the two
//! messages, instead of stopping everything. A Rust panic plays the exception. Rust
//! would print the panic as it happens, as if the program crashed; the example
//! installs clearloop's one-line hook ([`clearloop::panics::install_hook`]), which
//! prints instead, on stderr, which task panicked, where, and that the panic is
//! stored on the task.
//!
//! Run: `cargo run --example exceptions` (add `-- --virtual` for the virtual
//! clock). Prints (the `task 'Task-2'` line on stderr):
//!
//! ```text
//! False
//! task 'Task-2' panicked at examples/exceptions.rs:52:5: Ceci est une erreur !; stored on the task
//! True ['Bienvenue en Python', Exception('Ceci est une erreur !'), 'Bienvenue en Python']
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::time::sleep;
use clearloop::{Builder, TaskError, gather, spawn};

async fn get_long_message() -> String {
    sleep(Duration::from_secs(2)).await;
    "Bienvenue en Python".to_string()
}

async fn get_exception() -> String {
    sleep(Duration::from_secs(1)).await;
    panic!("Ceci est une erreur !")
}

/// The two coroutines have different types; a list needs one, so each is boxed.
type Message = Pin<Box<dyn Future<Output = String> + Send>>;

/// Python's repr of the result list.
fn python_list(results: &[Result<String, TaskError>]) -> String {
    let items: Vec<String> = results
        .iter()
        .map(|result| match result {
            Ok(text) => format!("'{text}'"),
            Err(error) => format!("Exception('{}')", error.panic_message().unwrap_or("?")),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn py(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    // Rust prints every panic when it happens (with a backtrace if RUST_BACKTRACE
    // is set): this hook makes it one line naming the task, so the course's output
    // stays readable.
    clearloop::panics::install_hook();
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        let coroutines: Vec<Message> = vec![
            Box::pin(get_long_message()),
            Box::pin(get_exception()),
            Box::pin(get_long_message()),
        ];
        // asyncio.gather returns a future you can look at; spawning the gather gives
        // a task, the same thing here.
        let task = spawn(gather(coroutines).return_exceptions());
        println!("{}", py(task.done()));
        task.wait().await;
        let done = task.done();
        let results = task.join().await.expect("return_exceptions never fails");
        println!("{} {}", py(done), python_list(&results));
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
