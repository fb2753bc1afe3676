package server

import (
	"sync"
)

// viewCache keeps the view each request's workflow last answered, keyed by
// its run and the length of its history then. A workflow's state changes
// only through events of its history, so while the history has not grown
// the view it would answer is the one kept: a list of thousands of pending
// requests then costs a describe per row (a read of Temporal's database)
// instead of a query (a workflow task on a worker, often a replay). A
// history that grew, a new run, or no length known (0) asks the workflow.
type viewCache struct {
	mu    sync.Mutex
	views map[string]cachedView
	max   int
}

type cachedView struct {
	run    string
	length int64
	data   []byte // the query's JSON answer; each reader decodes its own copy
}

// viewCacheSize bounds the views kept: enough for every pending request of
// a large tenant; past it, a tenth of them is dropped.
const viewCacheSize = 20000

func (c *viewCache) get(id, run string, length int64) ([]byte, bool) {
	if length <= 0 || run == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.views[id]
	if !ok || v.run != run || v.length != length {
		return nil, false
	}
	return v.data, true
}

func (c *viewCache) put(id, run string, length int64, data []byte) {
	if length <= 0 || run == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil {
		c.views = map[string]cachedView{}
	}
	max := c.max
	if max <= 0 {
		max = viewCacheSize
	}
	if _, ok := c.views[id]; !ok && len(c.views) >= max {
		drop := max / 10
		for k := range c.views {
			if drop <= 0 {
				break
			}
			delete(c.views, k)
			drop--
		}
	}
	c.views[id] = cachedView{run: run, length: length, data: data}
}
