//! TEMPORARY stand-in (BTreeMap) until the real wheel lands.
#![allow(missing_docs)]
use std::collections::{BTreeMap, HashMap};
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey(u64);
pub struct TimerWheel<T> {
    now: u64,
    seq: u64,
    map: BTreeMap<(u64, u64), T>,
    keys: HashMap<u64, u64>,
}
impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}
impl<T> TimerWheel<T> {
    pub fn new() -> Self {
        TimerWheel {
            now: 0,
            seq: 0,
            map: BTreeMap::new(),
            keys: HashMap::new(),
        }
    }
    pub fn now(&self) -> u64 {
        self.now
    }
    pub fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        self.seq += 1;
        let d = deadline.max(self.now);
        self.map.insert((d, self.seq), value);
        self.keys.insert(self.seq, d);
        TimerKey(self.seq)
    }
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let d = self.keys.remove(&key.0)?;
        self.map.remove(&(d, key.0))
    }
    pub fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let d = *self.keys.get(&key.0)?;
        self.map.get_mut(&(d, key.0))
    }
    pub fn next_expiration(&self) -> Option<u64> {
        self.map.keys().next().map(|k| k.0)
    }
    pub fn advance(&mut self, now: u64, mut fire: impl FnMut(u64, T)) {
        if now < self.now {
            return;
        }
        self.now = now;
        while let Some(e) = self.map.first_entry() {
            if e.key().0 > now {
                break;
            }
            let ((d, s), v) = e.remove_entry();
            self.keys.remove(&s);
            fire(d, v);
        }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
