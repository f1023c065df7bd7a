package basiq_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/banklink-go/basiq"
)

// ExampleDiagnose acts on the diagnosis of a refresh job whose
// verify-credentials step failed, as GET /jobs/{id} returns it, on API 3.0
// (the default), where the user fixes their login in the Consent UI.
func ExampleDiagnose() {
	const body = `{
	  "type": "job", "id": "57d6ab28-1fd4-4851-b9d2-81ca2884de21", "jobType": "connection",
	  "created": "2024-09-25T04:40:41Z", "updated": "2024-09-25T04:40:50Z",
	  "steps": [
	    {"title": "verify-credentials", "status": "failed",
	     "result": {"code": "invalid-credentials", "title": "Cannot login to target institution, check credentials.",
	                "detail": "Cannot login to target institution using supplied credentials. Please check credentials and try again."}},
	    {"title": "retrieve-accounts", "status": "pending", "result": null},
	    {"title": "retrieve-transactions", "status": "pending", "result": null}
	  ],
	  "links": {"self": "https://au-api.basiq.io/jobs/57d6ab28-1fd4-4851-b9d2-81ca2884de21",
	            "source": "https://au-api.basiq.io/users/bfa52043-e154-4adf-94d1-7f0544affc45/connections/05b14a4a-189a-412a-a8c3-88adf2fc47f4"}
	}`
	var job basiq.Job
	if err := json.Unmarshal([]byte(body), &job); err != nil {
		panic(err)
	}

	d := basiq.Diagnose(&job, basiq.DiagnoseOptions{
		APIVersion:        basiq.V3, // the default; Jobs.Wait fills in the client's
		Operation:         basiq.OpRefresh,
		InstitutionStatus: basiq.StatusOperational, // from c.Institutions.Get
		Attempt:           1,
	})

	switch {
	case d.Action == basiq.ActionNone:
		fmt.Println("nothing to do")
	case d.Action.UserMustAct():
		// Save the action and show the message when the user next signs in.
		fmt.Println("tell the user:", d.UserMessage)
		if d.Consent != nil {
			// Then send them to c.Consents.Link(ctx, d.UserID, d.Consent), once per d.ProblemID.
			fmt.Printf("through the Consent UI: connectionId=%s\n", d.Consent.ConnectionID)
		}
	case d.Action == basiq.ActionContactSupport:
		fmt.Println("report to Basiq support:", d.UserID, d.ConnectionID, d.JobID)
	default:
		fmt.Println("retry in", d.RetryAfter)
	}
	fmt.Println("action:", d.Action)
	fmt.Println("detail for support:", d.Detail)

	// Log it: the record carries the ids Basiq support asks for.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // keep the output deterministic
			}
			return a
		},
	}))
	logger.Warn("basiq job failed", "diagnosis", d)

	// The same step failing with service-unavailable during a major outage.
	job.Steps[0].Result.Code = "service-unavailable"
	d = basiq.Diagnose(&job, basiq.DiagnoseOptions{Operation: basiq.OpRefresh, InstitutionStatus: basiq.StatusMajorOutage})
	fmt.Println(d)
	fmt.Println("tell the user:", d.UserMessage)

	// Output:
	// tell the user: We couldn't log in to your bank with your saved details. If you've changed your internet banking password, please reconnect your bank with your current login details.
	// through the Consent UI: connectionId=05b14a4a-189a-412a-a8c3-88adf2fc47f4
	// action: update-credentials
	// detail for support: Cannot login to target institution using supplied credentials. Please check credentials and try again.
	// level=WARN msg="basiq job failed" diagnosis.user_id=bfa52043-e154-4adf-94d1-7f0544affc45 diagnosis.connection_id=05b14a4a-189a-412a-a8c3-88adf2fc47f4 diagnosis.job_id=57d6ab28-1fd4-4851-b9d2-81ca2884de21 diagnosis.action=update-credentials diagnosis.operation=refresh diagnosis.code=invalid-credentials diagnosis.step=verify-credentials diagnosis.institution_status=operational
	// job 57d6ab28-1fd4-4851-b9d2-81ca2884de21 (user bfa52043-e154-4adf-94d1-7f0544affc45, connection 05b14a4a-189a-412a-a8c3-88adf2fc47f4): step verify-credentials: service-unavailable on refresh: wait-for-institution (after 1h0m0s)
	// tell the user: Your bank is having problems at the moment, so we couldn't fetch your data. We'll try again later and let you know when your data is ready.
}
