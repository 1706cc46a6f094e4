package proxy

import (
	"fmt"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// This file translates the sets and verdict maps of the rule model.

// keyType maps a key type of the model to its nftables data type and to
// the packet field whose encoding its values share.
func keyType(name string) (nftables.SetDatatype, rules.Field, error) {
	switch name {
	case "ipv4_addr":
		return nftables.TypeIPAddr, rules.FieldDstAddr, nil
	case "inet_proto":
		return nftables.TypeInetProto, rules.FieldL4Proto, nil
	case "inet_service":
		return nftables.TypeInetService, rules.FieldDstPort, nil
	}
	return nftables.SetDatatype{}, "", fmt.Errorf("unknown key type %q", name)
}

// nlSet declares a set or verdict map of the model.
func nlSet(t *nftables.Table, s *rules.Set) (*nftables.Set, error) {
	types := make([]nftables.SetDatatype, len(s.KeyType))
	for i, name := range s.KeyType {
		typ, _, err := keyType(name)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", s.Name, err)
		}
		types[i] = typ
	}
	key := types[0]
	if len(types) > 1 {
		var err error
		if key, err = nftables.ConcatSetType(types...); err != nil {
			return nil, fmt.Errorf("set %s: %w", s.Name, err)
		}
	}
	set := &nftables.Set{Table: t, Name: s.Name, KeyType: key, Comment: s.Comment,
		KeyByteOrder: binaryutil.BigEndian}
	if s.Verdict {
		set.IsMap, set.DataType = true, nftables.TypeVerdict
	}
	for _, f := range s.Flags {
		switch f {
		case "dynamic":
			set.Dynamic = true
		case "timeout":
			set.HasTimeout = true
		default:
			return nil, fmt.Errorf("set %s: unknown flag %q", s.Name, f)
		}
	}
	if s.TimeoutSeconds > 0 {
		set.HasTimeout = true
		set.Timeout = time.Duration(s.TimeoutSeconds) * time.Second
	}
	return set, nil
}

// nlElement encodes an element of a set declared with keyTypes. With
// withValue, a verdict map element carries its verdict and comment;
// without, it is just the key, for deletion.
func nlElement(keyTypes []string, e rules.Element, withValue bool) (nftables.SetElement, error) {
	if len(e.Key) != len(keyTypes) {
		return nftables.SetElement{}, fmt.Errorf("element %s: %d values for %d key types", e.KeyString(), len(e.Key), len(keyTypes))
	}
	var key []byte
	for i, v := range e.Key {
		_, field, err := keyType(keyTypes[i])
		if err != nil {
			return nftables.SetElement{}, err
		}
		b, err := fieldValue(field, v, len(keyTypes) > 1)
		if err != nil {
			return nftables.SetElement{}, fmt.Errorf("element %s: %w", e.KeyString(), err)
		}
		key = append(key, b...)
	}
	el := nftables.SetElement{Key: key}
	if !withValue {
		return el, nil
	}
	el.Comment = e.Comment
	if e.Value.Kind != "" {
		v, err := verdict(e.Value)
		if err != nil {
			return nftables.SetElement{}, fmt.Errorf("element %s: %w", e.KeyString(), err)
		}
		el.VerdictData = v
	}
	return el, nil
}

// anonVerdictMap declares the constant map from 0..n-1 to goto targets
// that a numgen expression looks its number up in.
func anonVerdictMap(t *nftables.Table, targets []string) (*nftables.Set, []nftables.SetElement) {
	set := &nftables.Set{Table: t, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeInteger, DataType: nftables.TypeVerdict, KeyByteOrder: binaryutil.NativeEndian}
	elems := make([]nftables.SetElement, len(targets))
	for i, target := range targets {
		elems[i] = nftables.SetElement{Key: binaryutil.NativeEndian.PutUint32(uint32(i)),
			VerdictData: &expr.Verdict{Kind: expr.VerdictGoto, Chain: target}}
	}
	return set, elems
}

// anonDNATMap declares the constant map from 0..n-1 to address . port
// that a numgen DNAT looks its number up in. google/nftables labels the
// keys of anonymous sets big-endian (nft lists them so), hence big-endian
// keys and a byteorder conversion of numgen's host-order number.
func anonDNATMap(t *nftables.Table, backends []rules.Backend) (*nftables.Set, []nftables.SetElement, error) {
	data, err := nftables.ConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService)
	if err != nil {
		return nil, nil, fmt.Errorf("address . port type: %w", err)
	}
	set := &nftables.Set{Table: t, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeInteger, DataType: data, KeyByteOrder: binaryutil.BigEndian}
	elems := make([]nftables.SetElement, len(backends))
	for i, be := range backends {
		addr, err := parseAddr4(be.Addr)
		if err != nil {
			return nil, nil, err
		}
		val := append(addr, binaryutil.BigEndian.PutUint16(uint16(be.Port))...)
		elems[i] = nftables.SetElement{Key: binaryutil.BigEndian.PutUint32(uint32(i)), Val: append(val, 0, 0)}
	}
	return set, elems, nil
}
