// Package cli defines the skiff command line: one file per subcommand,
// each turning flags into a component Config and running it.
package cli
