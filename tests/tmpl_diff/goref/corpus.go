package main

// The golden corpus format, shared with tests/tmpl_diff/corpus.cc:
//
//	=== name [missingkey=default|zero|error] [known_difference]
//	optional comment lines
//	--- template
//	text
//	--- data            (optional; JSON, absent means nil)
//	{"a": 1}
//	--- want            (or "--- error" followed by Go's message, informational)
//	expected output
//
// A section holds the lines between its marker and the next marker line; the
// newline that ends its last line belongs to the file, not to the section.
// So "--- want" directly followed by "===" means an empty output, and an output
// ending in a newline shows up as a trailing blank line. Lines before the
// first "===" are a file comment.

import (
	"fmt"
	"os"
	"strings"
)

type corpusCase struct {
	header   string // the "=== ..." line without "=== "
	comment  []string
	template string
	data     *string
	hasWant  bool
	want     string
	isError  bool
	errText  string
}

func isMarker(line string) bool {
	switch line {
	case "--- template", "--- data", "--- want", "--- error":
		return true
	}
	return strings.HasPrefix(line, "=== ")
}

func parseCorpus(text string) (preamble []string, cases []*corpusCase, err error) {
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var cur *corpusCase
	section := ""
	var body []string
	flush := func() {
		if cur == nil || section == "" {
			return
		}
		s := strings.Join(body, "\n")
		switch section {
		case "--- template":
			cur.template = s
		case "--- data":
			cur.data = &s
		case "--- want":
			cur.hasWant, cur.want = true, s
		case "--- error":
			cur.isError, cur.errText = true, s
		}
	}
	for i, line := range lines {
		if !isMarker(line) {
			switch {
			case cur == nil:
				preamble = append(preamble, line)
			case section == "":
				cur.comment = append(cur.comment, line)
			default:
				body = append(body, line)
			}
			continue
		}
		flush()
		body = nil
		if strings.HasPrefix(line, "=== ") {
			cur = &corpusCase{header: strings.TrimPrefix(line, "=== ")}
			cases = append(cases, cur)
			section = ""
			continue
		}
		if cur == nil {
			return nil, nil, fmt.Errorf("line %d: %q before the first case", i+1, line)
		}
		section = line
	}
	flush()
	return preamble, cases, nil
}

func (c *corpusCase) name() string { return strings.Fields(c.header + " ?")[0] }

func (c *corpusCase) missingKey() string {
	for _, f := range strings.Fields(c.header)[1:] {
		if strings.HasPrefix(f, "missingkey=") {
			return strings.TrimPrefix(f, "missingkey=")
		}
	}
	return "default"
}

func (c *corpusCase) format(b *strings.Builder) {
	b.WriteString("=== " + c.header + "\n")
	for _, l := range c.comment {
		b.WriteString(l + "\n")
	}
	b.WriteString("--- template\n" + c.template + "\n")
	if c.data != nil {
		b.WriteString("--- data\n" + *c.data + "\n")
	}
	if c.isError {
		b.WriteString("--- error\n" + c.errText + "\n")
	} else {
		b.WriteString("--- want\n" + c.want + "\n")
	}
}

// refreshCorpus runs every case of the file through Go and, if write is set,
// stores Go's result. It returns how many cases were stale.
func refreshCorpus(path string, write bool) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	preamble, cases, err := parseCorpus(string(raw))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	stale := 0
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name()] {
			return 0, fmt.Errorf("%s: duplicate case name %q", path, c.name())
		}
		seen[c.name()] = true
		data := ""
		if c.data != nil {
			data = *c.data
		}
		parsed, err := decodeData([]byte(data))
		if err != nil {
			return 0, fmt.Errorf("%s: case %s: bad data: %w", path, c.name(), err)
		}
		out, runErr, panicked := run(c.name(), c.template, parsed, c.missingKey(), 0, nil)
		if panicked {
			return 0, fmt.Errorf("%s: case %s: Go panicked: %v", path, c.name(), runErr)
		}
		if runErr != nil {
			msg := strings.ReplaceAll(runErr.Error(), "\n", "\\n")
			if !c.isError || c.errText != msg {
				stale++
				fmt.Fprintf(os.Stderr, "%s: %s: error: %s\n", path, c.name(), msg)
			}
			c.isError, c.errText, c.hasWant, c.want = true, msg, false, ""
			continue
		}
		if strings.Contains("\n"+out, "\n=== ") || strings.Contains("\n"+out, "\n--- ") {
			return 0, fmt.Errorf("%s: case %s: output contains a marker line", path, c.name())
		}
		if c.isError || !c.hasWant || c.want != out {
			stale++
			fmt.Fprintf(os.Stderr, "%s: %s: want %q\n", path, c.name(), out)
		}
		c.isError, c.errText, c.hasWant, c.want = false, "", true, out
	}
	if !write || stale == 0 {
		return stale, nil
	}
	var b strings.Builder
	for _, l := range preamble {
		b.WriteString(l + "\n")
	}
	for _, c := range cases {
		c.format(&b)
	}
	return stale, os.WriteFile(path, []byte(b.String()), 0o644)
}
