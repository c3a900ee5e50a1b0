//! A small least-recently-used cache bounded by entry count and by a total cost.

use std::collections::VecDeque;

/// Least-recently-used map. Evicts from the cold end while there are more than `max_entries`
/// entries or their costs add up to more than `max_cost`, but always keeps the newest entry.
pub(crate) struct Lru<K, V> {
	max_entries: usize,
	max_cost: usize,
	cost: usize,
	/// Front = most recently used.
	entries: VecDeque<(K, V, usize)>,
}

impl<K: PartialEq, V: Clone> Lru<K, V> {
	pub(crate) fn new(max_entries: usize, max_cost: usize) -> Self {
		Self { max_entries: max_entries.max(1), max_cost, cost: 0, entries: VecDeque::new() }
	}

	/// The value for `key`, now the most recently used.
	pub(crate) fn get(&mut self, key: &K) -> Option<V> {
		let i = self.entries.iter().position(|(k, _, _)| k == key)?;
		let entry = self.entries.remove(i)?;
		let value = entry.1.clone();
		self.entries.push_front(entry);
		Some(value)
	}

	/// Inserts (or replaces) `key` with the given cost, evicting cold entries.
	pub(crate) fn insert(&mut self, key: K, value: V, cost: usize) {
		if let Some(i) = self.entries.iter().position(|(k, _, _)| *k == key) {
			if let Some((_, _, old)) = self.entries.remove(i) {
				self.cost -= old;
			}
		}
		self.entries.push_front((key, value, cost));
		self.cost = self.cost.saturating_add(cost);
		while self.entries.len() > 1
			&& (self.entries.len() > self.max_entries || self.cost > self.max_cost)
		{
			if let Some((_, _, c)) = self.entries.pop_back() {
				self.cost -= c;
			}
		}
	}

	#[cfg(test)]
	pub(crate) fn len(&self) -> usize {
		self.entries.len()
	}
}

#[cfg(test)]
mod tests {
	use super::Lru;

	#[test]
	fn evicts_least_recently_used_by_count_and_cost() {
		let mut lru = Lru::new(2, 100);
		lru.insert(1, "a", 10);
		lru.insert(2, "b", 10);
		assert_eq!(lru.get(&1), Some("a"));
		lru.insert(3, "c", 10);
		assert_eq!(lru.get(&2), None, "2 was the least recently used");
		assert_eq!(lru.get(&1), Some("a"));
		lru.insert(4, "d", 95);
		assert_eq!(lru.len(), 1, "cost bound evicts all but the newest");
		lru.insert(5, "e", 1000);
		assert_eq!((lru.len(), lru.get(&5)), (1, Some("e")), "the newest entry is always kept");
	}
}
