// Package storagetest is the contract every storage.Store passes. A backend
// calls Run from its own tests:
//
//	func TestContract(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return newStore(t) })
//	}
package storagetest
