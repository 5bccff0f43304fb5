//! Work spread over the machine's cores, results kept in input order so
//! output stays deterministic.
//!
//! Workers must not print: the command line holds the standard streams'
//! locks for the whole run, so a worker's `eprintln!` waits forever. Nor
//! may work done here wait on a lock (a `Mutex`, a `OnceLock` being
//! initialised) whose holder is itself waiting on work done here: a worker
//! waiting for its nested work runs other queued work meanwhile, which may
//! be the work that waits on the lock its own stack holds.

use rayon::prelude::*;

/// The workers: every core, at most 8, started once (a run makes thousands
/// of parallel calls; a thread started for each cost more than some calls).
fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("meshsim-{i}"))
            .build()
            .expect("worker threads start")
    })
}

/// `f` over many small `items`: each thread takes the next run of them
/// when it is free (runs of equal count can differ in cost many times).
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    pool().install(|| items.par_iter().map(&f).collect())
}

/// `f` over a few `items` of very different cost (the sections of a config
/// dump), each thread taking the next item when it is free. Items are
/// moved to `f`, so each is freed on the thread that used it.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    pool().install(|| items.into_par_iter().with_max_len(1).map(&f).collect())
}

/// [`map`] over owned `items`, moved, so each is freed where it was used.
pub fn map_vec<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    pool().install(|| items.into_par_iter().map(&f).collect())
}

/// `first` and `second` at once.
pub fn join<A: Send, B: Send>(
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B + Send,
) -> (A, B) {
    pool().join(first, second)
}

/// `value` freed on a worker, off the caller's way (large trees take a
/// while to free).
pub fn drop_later<T: Send + 'static>(value: T) {
    pool().spawn(move || drop(value));
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
