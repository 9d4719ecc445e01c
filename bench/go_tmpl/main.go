// Go's text/template on the same template and data as bench/tmpl_bench.cc:
// prints the mean render time over 10,000 instances.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"text/template"
	"time"
)

func services(n int) map[string]interface{} {
	list := make([]interface{}, 0, n)
	for i := 0; i < n; i++ {
		status := "passing"
		if i%10 == 0 {
			status = "critical"
		}
		list = append(list, map[string]interface{}{
			"ID":      "app-" + strconv.Itoa(i),
			"Address": fmt.Sprintf("10.0.%d.%d", i/256, i%256),
			"Port":    int64(8000 + i%1000),
			"Status":  status,
			"Tags":    []interface{}{"web", "v" + strconv.Itoa(i%3)},
		})
	}
	return map[string]interface{}{"Services": list, "Port": int64(80), "SSL": true}
}

func main() {
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	n, _ := strconv.Atoi(os.Args[2])
	iters, _ := strconv.Atoi(os.Args[3])
	t := template.Must(template.New("nginx").Parse(string(text)))
	data := services(n)
	var buf bytes.Buffer
	t.Execute(&buf, data) // warm up
	start := time.Now()
	for i := 0; i < iters; i++ {
		buf.Reset()
		if err := t.Execute(&buf, data); err != nil {
			panic(err)
		}
	}
	per := time.Since(start) / time.Duration(iters)
	fmt.Printf("go text/template render n=%d: %.3f ms (%d bytes)\n", n, float64(per.Microseconds())/1000, buf.Len())
}
