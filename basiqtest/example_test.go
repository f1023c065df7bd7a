package basiqtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/banklink-go/basiq/basiqtest"
)

// verifyBankLogin is application code under test: it links a new user's bank
// with plain net/http and waits until Basiq has verified the credentials.
func verifyBankLogin(hc *http.Client, baseURL, apiKey, institutionID, loginID, password string) (string, error) {
	call := func(method, path, token, ctype, body string, out any) error {
		req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		if token == "" {
			req.Header.Set("Authorization", "Basic "+apiKey)
			req.Header.Set("basiq-version", "2.1")
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %s", method, path, res.Status)
		}
		return json.NewDecoder(res.Body).Decode(out)
	}

	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := call("POST", "/token", "", "application/x-www-form-urlencoded", url.Values{"scope": {"SERVER_ACCESS"}}.Encode(), &tok); err != nil {
		return "", err
	}
	var usr, job struct{ ID string }
	if err := call("POST", "/users", tok.AccessToken, "application/json", `{"email":"max@example.com"}`, &usr); err != nil {
		return "", err
	}
	conn := fmt.Sprintf(`{"loginId":%q,"password":%q,"institution":{"id":%q}}`, loginID, password, institutionID)
	if err := call("POST", "/users/"+usr.ID+"/connections", tok.AccessToken, "application/json", conn, &job); err != nil {
		return "", err
	}
	for range 60 {
		var j struct {
			Steps []struct {
				Title, Status string
				Result        struct{ Code, Detail string }
			}
		}
		if err := call("GET", "/jobs/"+job.ID, tok.AccessToken, "application/json", "", &j); err != nil {
			return "", err
		}
		verify := j.Steps[0]
		switch verify.Status {
		case "success":
			return "verified", nil
		case "failed":
			return fmt.Sprintf("%s (%s)", verify.Result.Code, verify.Result.Detail), nil
		}
		time.Sleep(time.Second)
	}
	return "", errors.New("timed out")
}

// Example tests application code against the fake with plain net/http. With
// WithTimeScale(0) jobs finish at once; inside a testing/synctest bubble
// (with InMemory) they would take Hooli's real durations in virtual time.
func Example() {
	srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTimeScale(0))
	defer srv.Close()

	for _, login := range [][2]string{{"gavinBelson", "hooli2016"}, {"bighead", "password"}, {"gavinBelson", "oops"}} {
		got, err := verifyBankLogin(srv.Client(), srv.URL, srv.APIKey(), "AU00000", login[0], login[1])
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("%s/%s: %s\n", login[0], login[1], got)
	}
	fmt.Println("jobs polled:", srv.RequestCount("GET", "/jobs/{jobId}"))
	// Output:
	// gavinBelson/hooli2016: verified
	// bighead/password: invalid-credentials (Account is locked)
	// gavinBelson/oops: invalid-credentials (Cannot login to target institution using supplied credentials. Please check credentials and try again.)
	// jobs polled: 3
}
