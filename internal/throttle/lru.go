package throttle

// lru is a map with a recency list and a size cap: adding to a full table evicts
// the least recently touched entry. It is not safe for concurrent use; Memory's
// mutex guards it.
type lru[V any] struct {
	max        int
	m          map[string]*node[V]
	head, tail *node[V] // head is the most recently touched
}

type node[V any] struct {
	key        string
	val        V
	prev, next *node[V]
}

func newLRU[V any](max int) lru[V] {
	return lru[V]{max: max, m: make(map[string]*node[V])}
}

func (l *lru[V]) len() int { return len(l.m) }

func (l *lru[V]) get(key string) (*node[V], bool) {
	n, ok := l.m[key]
	return n, ok
}

// touch makes n the most recent entry.
func (l *lru[V]) touch(n *node[V]) {
	if l.head == n {
		return
	}
	l.unlink(n)
	l.pushFront(n)
}

// add inserts key, which must be absent, as the most recent entry. If the table
// was full it evicts the least recent entry and returns it.
func (l *lru[V]) add(key string, val V) (added *node[V], evicted *node[V]) {
	if len(l.m) >= l.max && l.tail != nil {
		evicted = l.tail
		l.remove(evicted)
	}
	n := &node[V]{key: key, val: val}
	l.m[key] = n
	l.pushFront(n)
	return n, evicted
}

func (l *lru[V]) remove(n *node[V]) {
	l.unlink(n)
	delete(l.m, n.key)
}

// each calls f on every entry from the least recent; f may remove the entry it
// is given.
func (l *lru[V]) each(f func(n *node[V])) {
	for n := l.tail; n != nil; {
		prev := n.prev
		f(n)
		n = prev
	}
}

func (l *lru[V]) pushFront(n *node[V]) {
	n.prev = nil
	n.next = l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[V]) unlink(n *node[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
