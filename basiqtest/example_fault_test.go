package basiqtest_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/banklink-go/basiq/basiqtest"
)

// ExampleServer_InjectFault makes the next two job polls fail as Basiq does
// when it throttles, to test a client's retries.
func ExampleServer_InjectFault() {
	srv := basiqtest.NewServer(basiqtest.InMemory())
	defer srv.Close()
	srv.InjectFault(basiqtest.Fault{Method: "GET", Path: "/jobs/*", Count: 2, Status: http.StatusTooManyRequests, RetryAfter: "2"})

	for range 3 {
		res, err := srv.Client().Get(srv.URL + "/jobs/fa521b1b-0031-4644-8885-7ed125e659c1")
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Output:
	// 429 2
	// 429 2
	// 401
}
