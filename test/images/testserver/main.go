// Command testserver is the process of Skiff's skiff-test image: a small
// HTTP server for end-to-end tests.
//
//	/healthz        200 "ok" (503 after -fail-health-after)
//	/hostname       the pod's hostname
//	/echo?msg=X     X
//	/exit?code=N    answers, then exits with code N
//	/env?name=X     the value of environment variable X
//
// With arguments after the flags it runs as a command instead:
// "testserver exit N" exits with N, "testserver sleep D" sleeps for the
// Go duration D, "testserver echo A B" prints its arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("testserver", flag.ContinueOnError)
	port := fs.Int("port", 8080, "TCP port to serve HTTP on")
	failAfter := fs.Duration("fail-health-after", 0, "make /healthz fail after this long (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return command(fs.Args())
	}
	return serve(*port, *failAfter)
}

func command(args []string) error {
	switch args[0] {
	case "exit":
		code := 0
		if len(args) > 1 {
			c, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("exit: %w", err)
			}
			code = c
		}
		os.Exit(code)
	case "sleep":
		if len(args) < 2 {
			return errors.New("sleep: no duration")
		}
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return fmt.Errorf("sleep: %w", err)
		}
		time.Sleep(d)
	case "echo":
		fmt.Println(strings.Join(args[1:], " "))
	case "get":
		return get(args[1:])
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}

// get fetches each URL and prints the body (busybox's static wget cannot
// resolve names or services; this client uses Go's own resolver).
func get(urls []string) error {
	if len(urls) == 0 {
		return errors.New("get: no URL")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, u := range urls {
		resp, err := client.Get(u)
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("get %s: %w", u, err)
		}
		fmt.Printf("%s\n", strings.TrimSpace(string(body)))
	}
	return nil
}

func serve(port int, failAfter time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	started := time.Now()
	exitCode := make(chan int, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if failAfter > 0 && time.Since(started) > failAfter {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, r *http.Request) {
		name, err := os.Hostname()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, name)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, r.URL.Query().Get("msg"))
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, os.Getenv(r.URL.Query().Get("name")))
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			http.Error(w, "bad code", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "exiting with %d\n", code)
		select {
		case exitCode <- code:
		default:
		}
	})
	srv := &http.Server{Addr: fmt.Sprintf(":%d", port), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("testserver listening on :%d\n", port)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		fmt.Println("testserver: signalled, shutting down")
		shutdown(srv)
		return nil
	case code := <-exitCode:
		shutdown(srv)
		os.Exit(code)
	}
	return nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
