package basiq_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/banklink-go/basiq"
)

// reportAPI returns a client on a stand-in for Basiq that answers the
// report calls with the examples Basiq publishes (testdata/basiq-spec/v3).
func reportAPI() (*basiq.Client, func()) {
	examples := map[string]string{}
	for file, ops := range map[string]map[string][2]string{
		"reporting.json": {"POST /reports": {"202", "example"}, "GET /reports/{id}": {"200", "example"}},
		"core.json":      {"GET /jobs/{jobId}": {"200", "Report-success"}},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "basiq-spec", "v3", file))
		if err != nil {
			log.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			log.Fatal(err)
		}
		for op, want := range ops {
			method, path, _ := strings.Cut(op, " ")
			var operation struct {
				Responses map[string]struct {
					Content map[string]struct {
						Example  json.RawMessage            `json:"example"`
						Examples map[string]json.RawMessage `json:"examples"`
					} `json:"content"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &operation); err != nil {
				log.Fatal(err)
			}
			media := operation.Responses[want[0]].Content["application/json"]
			body := media.Example
			if want[1] != "example" {
				var ex struct {
					Value json.RawMessage `json:"value"`
				}
				_ = json.Unmarshal(media.Examples[want[1]], &ex)
				body = ex.Value
			}
			examples[method+" "+path] = string(body)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/token":
			fmt.Fprint(w, `{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/reports":
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, examples["POST /reports"])
		case strings.HasPrefix(r.URL.Path, "/jobs/"):
			fmt.Fprint(w, examples["GET /jobs/{jobId}"])
		case strings.HasPrefix(r.URL.Path, "/reports/"):
			fmt.Fprint(w, examples["GET /reports/{id}"])
		default:
			http.NotFound(w, r)
		}
	}))
	c, err := basiq.NewClient("a2V5OnNlY3JldA==", basiq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

// Create a consumer affordability report over six months of a user's
// accounts, wait for the job that makes it, and read its headline metrics.
func ExampleReportsService_Create() {
	c, stop := reportAPI()
	defer stop()
	ctx := context.Background()

	job, err := c.Reports.Create(ctx, basiq.ReportParams{
		Type:  basiq.ReportAffordability,
		Title: "Gavin Belson affordability 2024-H1", // at most 50 characters
		Filters: basiq.ReportFilters{
			Users:    []string{"272af9fa-0f4a-44dc-bf88-a63bec2d0662"},
			Accounts: []string{"ag829sj", "aj82gka"},
			From:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), // sent as 2024-01-01
			To:       time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	done, err := c.Jobs.Wait(ctx, job.ID, nil) // a *basiq.JobFailedError says what to do if it fails
	if err != nil {
		log.Fatal(err)
	}
	report, err := c.Reports.Get(ctx, done.ReportID())
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"ME001", "ME002", "ME012", "ME019"} {
		if m, ok := report.Metric(id); ok {
			fmt.Printf("%s %-48s %9s (%s)\n", m.ID, m.Title, m.Value, m.Format)
		}
	}
	// Output:
	// ME001 # OF IDENTIFIED SALARY SOURCES                           4 (integer)
	// ME002 Average monthly amount from salary                 7228.00 (money)
	// ME012 Monthly spend on non-discretionary expenses (inc. liabilities)  -3851.00 (money)
	// ME019 # of financial dishonours                                3 (integer)
}

// statementAPI returns a client on a stand-in for Basiq that takes a
// statement upload and answers with a job, as Basiq does (202).
func statementAPI() (*basiq.Client, func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"access_token":"t","expires_in":3600,"token_type":"Bearer"}`)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil || r.FormValue("institutionId") == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"type":"list","data":[{"type":"error","code":"parameter-not-valid","title":"Bad form"}]}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"type":"job","id":"61723","links":{"self":"https://au-api.basiq.io/jobs/61723"}}`)
	}))
	c, err := basiq.NewClient("a2V5OnNlY3JldA==", basiq.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

// Upload a bank statement the user downloaded from their bank. The file is
// streamed, and the upload is sent once: on a failure, UploadError says
// whether Basiq may have started a job anyway.
func ExampleStatementsService_Upload() {
	c, stop := statementAPI()
	defer stop()
	ctx := context.Background()

	file := strings.NewReader("%PDF-1.7 ...") // an *os.File in real life
	job, err := c.Statements.Upload(ctx, "ea0acf2b", "AU01001", "march-2024.pdf", file)
	var upload *basiq.UploadError
	switch {
	case errors.As(err, &upload) && upload.MayHaveActed:
		log.Fatalf("look for the job before uploading again: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("job", job.ID, "reads the statement; wait for it with Jobs.Wait")
	// Output:
	// job 61723 reads the statement; wait for it with Jobs.Wait
}
