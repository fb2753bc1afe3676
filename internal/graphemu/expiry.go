package graphemu

import (
	"slices"
	"time"
)

// expireLoop removes assignments whose end has passed, as Entra does, so
// they vanish even when nobody asks.
func (e *Emulator) expireLoop(interval time.Duration) {
	defer close(e.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.mu.Lock()
			if e.expireLocked(e.now().UTC()) > 0 {
				e.changedLocked()
			}
			e.mu.Unlock()
		}
	}
}

// expireLocked removes assignments that ended at or before now and reports
// how many went. Every read and write calls it first, so callers never see
// an expired assignment between two ticks of the loop.
func (e *Emulator) expireLocked(now time.Time) int {
	before := len(e.instances)
	e.instances = slices.DeleteFunc(e.instances, func(inst Instance) bool {
		if inst.EndDateTime == nil || now.Before(*inst.EndDateTime) {
			return false
		}
		delete(e.madeAt, inst.ID)
		e.log.Info("graph emulator: assignment expired", "principal_id", inst.PrincipalID,
			"role_definition_id", inst.RoleDefinitionID, "directory_scope_id", inst.DirectoryScopeID,
			"end", inst.EndDateTime.Format(time.RFC3339Nano))
		return true
	})
	return before - len(e.instances)
}
