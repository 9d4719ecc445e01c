// Command goref is the reference side of autopilot's text/template
// differential tests: it runs templates through Go's own text/template so
// that the C++ engine in src/tmpl can be compared with it byte for byte.
// It is a test tool only; nothing in the product depends on it.
//
// Modes:
//
//	goref                 stream mode: reads JSON cases from stdin, writes one
//	                      JSON result line per case to stdout (see runCase).
//	goref -fill FILE...   rewrites the want/error section of every case in the
//	                      corpus files with what Go produces.
//	goref -check FILE...  like -fill but only reports stale cases; exit 1 if any.
//
// Case (stream mode), one JSON value each, usually one per line:
//
//	{"name":"t", "template":"{{.}}", "data":<json>, "missingkey":"default",
//	 "max_output":1048576, "funcs":"containerpilot"}
//
// "funcs" is optional: "containerpilot" registers ContainerPilot's config
// helpers (containerpilot.go); absent or "" means none.
//
// "template_b64" may replace "template" for texts that are not valid UTF-8.
// Result line: {"ok":true,"out":"..."} or {"ok":true,"out_b64":"..."} when the
// output is not valid UTF-8, or {"ok":false,"err":"..."}.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"
)

type request struct {
	Name        string          `json:"name"`
	Template    string          `json:"template"`
	TemplateB64 string          `json:"template_b64"`
	Data        json.RawMessage `json:"data"`
	MissingKey  string          `json:"missingkey"`
	MaxOutput   int             `json:"max_output"`
	Funcs       string          `json:"funcs"`
}

type response struct {
	OK     bool   `json:"ok"`
	Out    string `json:"out,omitempty"`
	OutB64 string `json:"out_b64,omitempty"`
	Err    string `json:"err,omitempty"`
	Panic  bool   `json:"panic,omitempty"`
}

// convert turns the UseNumber decoding into the value shapes the C++ engine
// builds from nlohmann::json: integral literals that fit int64 become int64,
// every other number float64. Arrays keep the spare capacity encoding/json's
// appends leave (cap 4 for 3 elements): text/template's slice checks indexes
// against cap, so {{slice .l 1 4}} on a 3-element list succeeds in Go, and
// src/tmpl mirrors that growth (corpus case slice_beyond_len_within_cap).
func convert(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = convert(e)
		}
		return x
	}
	return v
}

func decodeData(raw []byte) (interface{}, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return convert(v), nil
}

var errOutputLimit = errors.New("output limit exceeded")

// limitWriter fails once more than max bytes are written, so that a runaway
// random template ends as an error on both sides instead of eating memory.
type limitWriter struct {
	buf bytes.Buffer
	max int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.max > 0 && w.buf.Len()+len(p) > w.max {
		return 0, errOutputLimit
	}
	return w.buf.Write(p)
}

// run parses and executes one template. Go writes partial output before an
// exec error; callers only learn that it failed.
func run(name, text string, data interface{}, missingKey string, maxOutput int, funcs template.FuncMap) (out string, err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			panicked = true
		}
	}()
	if name == "" {
		name = "t"
	}
	if missingKey == "" {
		missingKey = "default"
	}
	t := template.New(name).Option("missingkey=" + missingKey)
	if funcs != nil {
		t = t.Funcs(funcs)
	}
	t, err = t.Parse(text)
	if err != nil {
		return "", err, false
	}
	w := &limitWriter{max: maxOutput}
	if err := t.Execute(w, data); err != nil {
		return "", err, false
	}
	return w.buf.String(), nil, false
}

func runCase(req *request) response {
	text := req.Template
	if req.TemplateB64 != "" {
		b, err := base64.StdEncoding.DecodeString(req.TemplateB64)
		if err != nil {
			return response{Err: "goref: bad template_b64: " + err.Error()}
		}
		text = string(b)
	}
	data, err := decodeData(req.Data)
	if err != nil {
		return response{Err: "goref: bad data: " + err.Error()}
	}
	funcs, err := funcsFor(req.Funcs)
	if err != nil {
		return response{Err: err.Error()}
	}
	out, err, panicked := run(req.Name, text, data, req.MissingKey, req.MaxOutput, funcs)
	if err != nil {
		return response{Err: err.Error(), Panic: panicked}
	}
	if utf8.ValidString(out) {
		return response{OK: true, Out: out}
	}
	return response{OK: true, OutB64: base64.StdEncoding.EncodeToString([]byte(out))}
}

func stream(in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(bufio.NewReaderSize(in, 1<<20))
	w := bufio.NewWriterSize(out, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		var req request
		if err := dec.Decode(&req); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("reading case: %w", err)
		}
		resp := runCase(&req)
		if err := enc.Encode(&resp); err != nil {
			return err
		}
	}
	return w.Flush()
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		if err := stream(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "goref:", err)
			os.Exit(2)
		}
		return
	}
	switch args[0] {
	case "-fill", "-check":
		stale := 0
		for _, path := range args[1:] {
			n, err := refreshCorpus(path, args[0] == "-fill")
			if err != nil {
				fmt.Fprintln(os.Stderr, "goref:", err)
				os.Exit(2)
			}
			stale += n
		}
		if stale > 0 && args[0] == "-check" {
			fmt.Fprintf(os.Stderr, "goref: %d stale case(s)\n", stale)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: goref [-fill|-check FILE...]")
		os.Exit(2)
	}
}
