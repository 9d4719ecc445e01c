package main

// ContainerPilot's config-template helpers (config/template/template.go in
// ContainerPilot 3), written again here with the same Go signatures and
// behaviour, so that the "containerpilot" funcs mode runs templates the way
// ContainerPilot renders its config. Two changes, both for the test only:
// env reads a fixed map instead of the process environment (the C++ side
// gives its helpers the same map), and loop refuses ranges longer than
// 100000 items, the bound autopilot's loop has, instead of allocating
// without limit.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// helperEnv is what `env` sees; tests/tmpl_diff/random_helpers.cc holds the
// same entries.
var helperEnv = map[string]string{
	"HOST":   "web-1",
	"EMPTY":  "",
	"N":      "3",
	"PARTS":  "a:b:c",
	"SPACED": "  x y  ",
}

const maxLoop = 100000

func cpDefault(def, value interface{}) string {
	if value != nil {
		if s, ok := value.(string); ok && s != "" {
			return s
		}
	}
	if s, ok := def.(string); ok {
		return s
	}
	return fmt.Sprintf("%v", def)
}

func cpEnv(name string) string { return helperEnv[name] }

func cpSplit(sep, s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}, nil
	}
	return strings.Split(s, sep), nil
}

func cpJoin(sep string, list []string) (string, error) {
	return strings.Join(list, sep), nil
}

func cpReplaceAll(from, to, s string) (string, error) {
	return strings.ReplaceAll(s, from, to), nil
}

func cpRegexReplaceAll(re, to, s string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllString(s, to), nil
}

// cpInt converts as ContainerPilot's ensureInt: strings through Atoi, and a
// type assertion to int for anything else (which panics for other types;
// text/template turns the panic into the call's error).
func cpInt(v interface{}) (int, error) {
	if s, ok := v.(string); ok {
		return strconv.Atoi(s)
	}
	return v.(int), nil
}

func cpLoop(params ...interface{}) ([]int, error) {
	var start, stop int
	switch len(params) {
	case 1:
		n, err := cpInt(params[0])
		if err != nil {
			return nil, err
		}
		stop = n
	case 2:
		a, err := cpInt(params[0])
		if err != nil {
			return nil, err
		}
		b, err := cpInt(params[1])
		if err != nil {
			return nil, err
		}
		start, stop = a, b
	default:
		return nil, fmt.Errorf("loop: wrong number of arguments, expected 1 or 2, but got %d", len(params))
	}
	span := uint64(stop) - uint64(start)
	if stop < start {
		span = uint64(start) - uint64(stop)
	}
	if span > maxLoop {
		return nil, fmt.Errorf("loop: range too large (at most %d items)", maxLoop)
	}
	out := []int{}
	if stop < start {
		for i := start; i > stop; i-- {
			out = append(out, i)
		}
	} else {
		for i := start; i < stop; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

func containerPilotFuncs() template.FuncMap {
	return template.FuncMap{
		"default":         cpDefault,
		"env":             cpEnv,
		"split":           cpSplit,
		"join":            cpJoin,
		"replaceAll":      cpReplaceAll,
		"regexReplaceAll": cpRegexReplaceAll,
		"loop":            cpLoop,
	}
}

// funcsFor names the FuncMap modes a case may ask for.
func funcsFor(mode string) (template.FuncMap, error) {
	switch mode {
	case "":
		return nil, nil
	case "containerpilot":
		return containerPilotFuncs(), nil
	}
	return nil, fmt.Errorf("goref: unknown funcs mode %q", mode)
}
