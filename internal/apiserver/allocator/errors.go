package allocator

import (
	"errors"
	"fmt"
)

// Errors of the allocators; test with errors.Is. The error values returned
// carry a message naming the kind of value and the range, suitable for a
// 422 response.
var (
	// ErrFull: no free value is left in the range.
	ErrFull = errors.New("range is full")
	// ErrAllocated: the requested value is already taken.
	ErrAllocated = errors.New("provided value is already allocated")
	// ErrNotInRange: the requested value is outside the range.
	ErrNotInRange = errors.New("provided value is not in the valid range")
)

// rangeError is a sentinel error with a specific message.
type rangeError struct {
	kind error
	msg  string
}

func (e *rangeError) Error() string { return e.msg }
func (e *rangeError) Unwrap() error { return e.kind }

// errAllocated reports that a value of the given noun ("IP", "port") is taken.
func errAllocated(noun string) error {
	return &rangeError{kind: ErrAllocated, msg: fmt.Sprintf("provided %s is already allocated", noun)}
}

// errNotInRange reports that a value lies outside rangeName.
func errNotInRange(noun, rangeName string) error {
	return &rangeError{
		kind: ErrNotInRange,
		msg:  fmt.Sprintf("provided %s is not in the valid range. The range of valid %ss is %s", noun, noun, rangeName),
	}
}

// errFull reports that rangeName has no free value left.
func errFull(noun, rangeName string) error {
	return &rangeError{kind: ErrFull, msg: fmt.Sprintf("range is full: no free %s left in %s", noun, rangeName)}
}
