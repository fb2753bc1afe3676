package server

import "testing"

// waiters is how many hold or wait for key's lock.
func (k *keyedMutex) waiters(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.locks[key]; l != nil {
		return l.waiters
	}
	return 0
}

func TestKeyedMutexForgetsIdleKeys(t *testing.T) {
	var k keyedMutex
	unlockA := k.lock("a")
	done := make(chan struct{})
	go func() {
		unlock := k.lock("a")
		unlock()
		close(done)
	}()
	unlockB := k.lock("b") // another key is not held up
	unlockB()
	unlockA()
	<-done
	if len(k.locks) != 0 {
		t.Errorf("%d locks left after all were released", len(k.locks))
	}
}
