package proxy

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// applier programs rule sets into the kernel.
type applier interface {
	// apply moves the kernel from old to new. A nil old means the kernel
	// state is unknown: new is loaded whole.
	apply(ctx context.Context, old, new *rules.RuleSet) error
	// cleanup removes everything the applier installs; absent state is
	// not an error.
	cleanup(ctx context.Context) error
}

// ErrNoKernelTool is returned when no tool for the requested mode works.
var ErrNoKernelTool = errors.New("neither nftables (netlink) nor iptables-restore works")

// modeNFTablesTool programs nftables with the nft tool (`nft -f -`)
// instead of netlink. Not offered to users: the benchmark and the tests
// use it to compare the two appliers.
const modeNFTablesTool Mode = "nftables-tool"

// resolveMode turns auto into the mode the node supports and checks that
// an explicit mode's tool can run.
func resolveMode(ctx context.Context, mode Mode, cmd commander) (Mode, error) {
	nftOK := func() bool { return nlApplier{netns: cmd.netns}.available() }
	iptOK := func() bool { return available("iptables-restore") && available("iptables") }
	switch mode {
	case ModeNFTables:
		if !nftOK() {
			return "", fmt.Errorf("nftables mode: %w", ErrNoKernelTool)
		}
	case ModeIPTables:
		if !iptOK() {
			return "", fmt.Errorf("iptables mode: %w", ErrNoKernelTool)
		}
	default:
		switch {
		case nftOK():
			mode = ModeNFTables
		case iptOK():
			mode = ModeIPTables
		default:
			return "", ErrNoKernelTool
		}
	}
	return mode, nil
}

func newApplier(mode Mode, cmd commander) applier {
	switch mode {
	case ModeIPTables:
		return &iptApplier{cmd: cmd}
	case modeNFTablesTool:
		return nftApplier{cmd: cmd}
	}
	return nlApplier{netns: cmd.netns}
}

// Cleanup removes the rules of the given mode (both for auto) from the
// current network namespace: the nftables table, or the iptables chains
// and the jumps to them.
func Cleanup(ctx context.Context, mode Mode) error {
	return cleanup(ctx, mode, commander{})
}

func cleanup(ctx context.Context, mode Mode, cmd commander) error {
	if mode == modeNFTablesTool {
		mode = ModeNFTables
	}
	var errs []error
	if nl := (nlApplier{netns: cmd.netns}); mode != ModeIPTables && nl.available() {
		errs = append(errs, nl.cleanup(ctx))
	}
	if mode != ModeNFTables && available("iptables-restore") {
		errs = append(errs, (&iptApplier{cmd: cmd}).cleanup(ctx))
	}
	return errors.Join(errs...)
}

// nftApplier loads rule sets with `nft -f -`.
type nftApplier struct {
	cmd commander
}

func (a nftApplier) apply(ctx context.Context, old, new *rules.RuleSet) error {
	script := ""
	if old == nil {
		script = new.NFT()
	} else {
		changes := rules.Diff(old, new)
		if changes.Empty() {
			return nil
		}
		script = changes.NFT()
	}
	if _, err := a.cmd.run(ctx, script, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("loading nftables rules: %w", err)
	}
	return nil
}

func (a nftApplier) cleanup(ctx context.Context) error {
	// Adding first makes the delete succeed when the table is absent.
	script := fmt.Sprintf("add table %s %s\ndelete table %s %s\n",
		rules.TableFamily, rules.TableName, rules.TableFamily, rules.TableName)
	if _, err := a.cmd.run(ctx, script, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("removing the nftables table: %w", err)
	}
	return nil
}
