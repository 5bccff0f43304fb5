//! Work spread over the machine's cores, results kept in input order so
//! output stays deterministic.
//!
//! Workers must not print: the command line holds the standard streams'
//! locks for the whole run, so a worker's `eprintln!` waits forever.

use std::sync::{Mutex, PoisonError};

/// How many threads to use: every core, at most 8.
fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// `f` over many small `items`: each thread takes the next run of them
/// when it is free (runs of equal count can differ in cost many times).
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_vec(items.iter().collect(), f)
}

/// `f` over a few `items` of very different cost (the sections of a config
/// dump), each thread taking the next item when it is free. Items are
/// moved to `f`, so each is freed on the thread that used it.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    // One item is done here, not on a thread started for it.
    if items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let work = || {
        let mut done = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((i, item)) = next else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads()).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        done.extend(others.into_iter().flat_map(joined));
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// [`map`] over owned `items`, moved, so each is freed where it was used.
pub fn map_vec<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads();
    if threads < 2 || items.len() < 64 {
        return items.into_iter().map(f).collect();
    }
    let run = items.len().div_ceil(threads * 16);
    let mut items = items.into_iter();
    let runs: Vec<Vec<T>> = std::iter::from_fn(|| {
        let next: Vec<T> = items.by_ref().take(run).collect();
        (!next.is_empty()).then_some(next)
    })
    .collect();
    map_owned(runs, |run| run.into_iter().map(&f).collect::<Vec<R>>())
        .into_iter()
        .flatten()
        .collect()
}

/// `first` on a thread of its own while this one runs `second`.
pub fn join<A: Send, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let first = scope.spawn(first);
        let second = second();
        (joined(first), second)
    })
}

/// A worker's results; a panic in a worker is a bug, surfaced as one.
fn joined<R>(handle: std::thread::ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            map(&items, |x| x * 2),
            (0..1000).map(|x| x * 2).collect::<Vec<_>>()
        );
        // Uneven costs finish out of order; the results do not.
        let owned = map_owned(items.clone(), |x| {
            if x % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            x + 1
        });
        assert_eq!(owned, (1..1001).collect::<Vec<_>>());
        assert_eq!(map_vec(items, |x| x + 2), (2..1002).collect::<Vec<_>>());
    }
}
