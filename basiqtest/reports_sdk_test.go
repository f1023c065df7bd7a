package basiqtest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// These tests drive the fake's reports, statements, auth links, identities
// and enrich with the SDK itself, in a synctest bubble.

// sdkV3WithData returns a 3.0 client and a user whose Hooli connection has
// finished its job, with about 90 days of history.
func sdkV3WithData(t *testing.T, srv *basiqtest.Server) (*basiq.Client, string) {
	t.Helper()
	c := sdkClient(t, srv, basiq.WithAPIVersion(basiq.V3))
	userID := sdkUser(t, c)
	jobID, err := srv.Connect(userID, "AU00000", "gavinBelson", "hooli2016")
	require.NoError(t, err)
	_, err = c.Jobs.Wait(t.Context(), jobID, nil)
	require.NoError(t, err)
	return c, userID
}

func TestSDKAffordabilityReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory(), basiqtest.WithTransactionsPerAccount(180))
		defer srv.Close()
		c, userID := sdkV3WithData(t, srv)
		ctx := t.Context()
		accts, err := c.Accounts.List(ctx, userID, nil)
		require.NoError(t, err)
		var ids []string
		for _, a := range accts {
			ids = append(ids, a.ID)
		}
		to := time.Now()
		job, err := c.Reports.Create(ctx, basiq.ReportParams{Type: basiq.ReportAffordability, Title: "SDK report",
			Filters: basiq.ReportFilters{Users: []string{userID}, Accounts: ids, From: to.AddDate(0, -3, 0), To: to,
				IncludeMetrics: []string{"ME002", "ME010", "ME033"}}})
		require.NoError(t, err)
		done, err := c.Jobs.Wait(ctx, job.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, basiq.JobSucceeded, done.Status())
		assert.Equal(t, job.ID, done.ReportID())

		rep, err := c.Reports.Get(ctx, done.ReportID())
		require.NoError(t, err)
		assert.Equal(t, "SDK report", rep.Title)
		require.Len(t, rep.Metrics, 3)
		limit, ok := rep.Metric("ME010")
		require.True(t, ok)
		assert.Equal(t, basiq.ReportMetric{ID: "ME010", Title: "Total credit card limit",
			Description: "Total limits on available credit card accounts", Sections: []string{"Financial Commitments"},
			Value: "10000.00", Format: "money"}, limit)
		assert.Equal(t, srv.URL+"/reports/"+rep.ID+"/transactions", rep.TransactionsURL)

		var n int
		for tx, err := range c.Reports.Transactions(ctx, rep.ID, &basiq.TransactionFilter{Direction: basiq.TransactionDirection("credit")}) {
			require.NoError(t, err)
			assert.EqualValues(t, "credit", tx.Direction)
			assert.NotEmpty(t, tx.Balance, "a report's transactions carry the balance after them")
			n++
		}
		assert.Positive(t, n)

		pdf, err := c.Reports.PDF(ctx, rep.ID)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))

		types, err := c.Reports.Types(ctx)
		require.NoError(t, err)
		require.Len(t, types, 2)
		st, err := c.Reports.Type(ctx, basiq.ReportStatement)
		require.NoError(t, err)
		assert.Equal(t, "Bank Statement", st.Name)

		var listed []string
		for r, err := range c.Reports.List(ctx) {
			require.NoError(t, err)
			listed = append(listed, r.ID)
		}
		assert.Equal(t, []string{rep.ID}, listed)
		require.NoError(t, c.Reports.Delete(ctx, rep.ID))
		_, err = c.Reports.Get(ctx, rep.ID)
		assert.True(t, errors.Is(err, basiq.ErrNotFound), "%v", err)

		// A report over an account the user does not have fails its job,
		// and the Diagnosis carries the fake's code and detail.
		job, err = c.Reports.Create(ctx, basiq.ReportParams{Type: basiq.ReportAffordability, Title: "Bad",
			Filters: basiq.ReportFilters{Users: []string{userID}, Accounts: []string{"5b1e0c11-1111-4111-8111-111111111111"},
				From: to.AddDate(0, -1, 0), To: to}})
		require.NoError(t, err)
		_, err = c.Jobs.Wait(ctx, job.ID, nil)
		var failed *basiq.JobFailedError
		require.ErrorAs(t, err, &failed)
		assert.Equal(t, basiq.StepCreateReport, failed.Step.Title)
		assert.Equal(t, "invalid-field-value", failed.Diagnosis.Code)
		assert.Equal(t, basiq.ActionCheckReportFilters, failed.Diagnosis.Action)
		assert.Contains(t, failed.Diagnosis.Detail, "5b1e0c11-1111-4111-8111-111111111111")
	})
}

func TestSDKStatementUploadAuthLinksIdentitiesEnrich(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := basiqtest.NewServer(basiqtest.InMemory())
		defer srv.Close()
		c, userID := sdkV3WithData(t, srv)
		ctx := t.Context()

		job, err := c.Statements.Upload(ctx, userID, "AU10001", "statement.csv", strings.NewReader(statementCSV))
		require.NoError(t, err)
		done, err := c.Jobs.Wait(ctx, job.ID, nil)
		require.NoError(t, err)
		var descs []string
		for tx, err := range c.Transactions.All(ctx, userID, &basiq.TransactionFilter{ConnectionID: done.ConnectionID()}) {
			require.NoError(t, err)
			descs = append(descs, tx.Description)
		}
		assert.Equal(t, []string{"ATM WITHDRAWAL MANLY", "WOOLWORTHS 1234 SYDNEY", "SALARY ACME PTY LTD", "INTEREST CREDIT"}, descs)

		job, err = c.Statements.Upload(ctx, userID, "AU10001", "statement.png", bytes.NewReader([]byte("\x89PNG\r\n\x1a\n")))
		require.NoError(t, err)
		_, err = c.Jobs.Wait(ctx, job.ID, nil)
		var failed *basiq.JobFailedError
		require.ErrorAs(t, err, &failed)
		assert.Equal(t, basiq.StepVerifyCredentials, failed.Step.Title)
		assert.Equal(t, "bank-statement-invalid", failed.Diagnosis.Code)
		assert.Equal(t, basiq.ActionCheckStatement, failed.Diagnosis.Action)

		_, err = c.Statements.Upload(ctx, userID, "AU00000", "statement.csv", strings.NewReader(statementCSV))
		var apiErr *basiq.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 400, apiErr.StatusCode)
		assert.Equal(t, "institution-not-supported", apiErr.Code())

		link, err := c.AuthLinks.Create(ctx, userID, &basiq.AuthLinkParams{Mobile: "+61410000111"})
		require.NoError(t, err)
		got, err := c.AuthLinks.Get(ctx, userID)
		require.NoError(t, err)
		assert.Equal(t, link.URL, got.URL)
		assert.Equal(t, "+61410000111", got.Mobile)
		assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), got.Expires, time.Second)
		require.NoError(t, c.AuthLinks.Delete(ctx, userID))
		_, err = c.AuthLinks.Get(ctx, userID)
		require.Error(t, err)

		ids, err := c.Identities.List(ctx, userID)
		require.NoError(t, err)
		require.Len(t, ids, 1)
		assert.Equal(t, "Gavin Belson", ids[0].FullName)
		one, err := c.Identities.Get(ctx, userID, ids[0].ID)
		require.NoError(t, err)
		assert.Equal(t, ids[0].ConnectionID, one.ConnectionID)

		e, err := c.Enrich.Get(ctx, basiq.EnrichParams{Query: "WOOLWORTHS 1234 SYDNEY", Institution: "AU00000", Country: "AU", Amount: "-12.95"})
		require.NoError(t, err)
		require.NotNil(t, e.Data.Merchant)
		assert.Equal(t, "Woolworths", e.Data.Merchant.BusinessName)
		assert.EqualValues(t, "payment", e.Class)

		types, err := c.Events.Types(ctx)
		require.NoError(t, err)
		assert.Len(t, types, 15)
	})
}
