package basiqtest_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upload posts a statement as multipart/form-data; an empty institution or
// a nil file leaves that field out.
func (a *api) upload(tok, userID, institutionID string, file []byte) resp {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if institutionID != "" {
		require.NoError(a.t, w.WriteField("institutionId", institutionID))
	}
	if file != nil {
		fw, err := w.CreateFormFile("statement", "statement.csv")
		require.NoError(a.t, err)
		_, err = fw.Write(file)
		require.NoError(a.t, err)
	}
	require.NoError(a.t, w.Close())
	req, err := http.NewRequest("POST", a.srv.URL+"/users/"+userID+"/statements", &body)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := a.http.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

const statementCSV = `Date,Description,Amount,Balance,Account_Number,Account_Name,BSB
2025-02-03,SALARY ACME PTY LTD,2500.00,3100.00,12345678,Everyday,062-000
2025-02-04,WOOLWORTHS 1234 SYDNEY,-84.20,3015.80,12345678,Everyday,062-000
05/02/2025,ATM WITHDRAWAL MANLY,-100,2915.80,12345678,Everyday,062-000
2025-02-01,INTEREST CREDIT,1.25,501.25,99990000,Saver,062-000
`

// runStatement uploads file and runs its job to the end.
func (d *dataSetup) runStatement(t *testing.T, file []byte) jobDoc {
	t.Helper()
	r := d.a.upload(d.tok, d.userID, "AU10001", file)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	requireMatchesSchema(t, "data.json", specSchema(t, "data.json", "/users/{userId}/statements", "post", "202", "application/json"), r.Body)
	d.clock.Add(5 * time.Minute)
	return d.a.job(d.tok, r.JSON(t)["id"].(string))
}

func TestStatementCSVBecomesAConnection(t *testing.T) {
	d := newDataSetup(t)
	j := d.runStatement(t, []byte(statementCSV))
	require.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"}, j.statuses())
	assert.Equal(t, "connection", j.JobType)
	connURL := j.step(t, "verify-credentials").result(t)["url"].(string)
	connID := connURL[strings.LastIndex(connURL, "/")+1:]
	conn := d.a.send("GET", "/users/"+d.userID+"/connections/"+connID, d.tok, nil)
	require.Equal(t, http.StatusOK, conn.Status)
	assert.Equal(t, "active", conn.JSON(t)["status"])

	txs, _ := d.all(t, "filter=connection.id.eq('"+connID+"')")
	require.Len(t, txs, 4)
	var got []string
	for _, tx := range txs {
		got = append(got, tx.Description+"|"+tx.Amount+"|"+tx.Class+"|"+tx.Direction+"|"+(*tx.PostDate)[:10])
	}
	assert.Equal(t, []string{
		"ATM WITHDRAWAL MANLY|-100.00|cash-withdrawal|debit|2025-02-05",
		"WOOLWORTHS 1234 SYDNEY|-84.20|payment|debit|2025-02-04",
		"SALARY ACME PTY LTD|2500.00|direct-credit|credit|2025-02-03",
		"INTEREST CREDIT|1.25|interest|credit|2025-02-01",
	}, got, "newest first per account, accounts in file order")

	accts := d.a.send("GET", "/users/"+d.userID+"/accounts?filter=connection.id.eq('"+connID+"')", d.tok, nil).JSON(t)["data"].([]any)
	require.Len(t, accts, 2)
	first := accts[0].(map[string]any)
	assert.Equal(t, "Everyday", first["name"])
	assert.Equal(t, "2915.80", first["balance"], "the newest row's balance")
	one := d.a.send("GET", "/users/"+d.userID+"/transactions/"+txs[0].ID, d.tok, nil)
	require.Equal(t, http.StatusOK, one.Status)

	// Nothing to refresh: a newer statement is a new upload.
	requireError(t, d.a.send("POST", "/users/"+d.userID+"/connections/"+connID+"/refresh", d.tok, nil),
		http.StatusBadRequest, "parameter-not-valid")
}

func TestStatementPDFIsRead(t *testing.T) {
	d := newDataSetup(t)
	pdf := []byte("%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	j := d.runStatement(t, pdf)
	require.Equal(t, []string{"verify-credentials=success", "retrieve-accounts=success", "retrieve-transactions=success"}, j.statuses())
	connURL := j.step(t, "verify-credentials").result(t)["url"].(string)
	txs, _ := d.all(t, "filter=connection.id.eq('"+connURL[strings.LastIndex(connURL, "/")+1:]+"')")
	assert.NotEmpty(t, txs)
}

func TestStatementFileItCannotRead(t *testing.T) {
	cases := []struct {
		name, file, code string
	}{
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00", "bank-statement-invalid"},
		{"text of another format", "hello,world\n1,2\n", "bank-statement-invalid"},
		{"empty", "", "empty-file"},
		{"header only", "date,description,amount,account_number\n", "empty-file"},
		{"missing column", "date,description,account_number\n2025-02-01,X,1\n", "missing-required-field"},
		{"missing value", "date,description,amount,account_number\n2025-02-01,,1.00,1\n", "missing-required-field-value"},
		{"bad date", "date,description,amount,account_number\n2025-13-01,X,1.00,1\n", "invalid-field-value"},
		{"bad amount", "date,description,amount,account_number\n2025-02-01,X,1.001,1\n", "invalid-field-value"},
		{"short row", "date,description,amount,account_number\n2025-02-01,X,1.00\n", "invalid-csv-row"},
		{"account differs", "date,description,amount,account_number,account_name\n2025-02-01,X,1,7,A\n2025-02-02,Y,1,7,B\n", "account-data-differs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDataSetup(t)
			j := d.runStatement(t, []byte(tc.file))
			require.Equal(t, []string{"verify-credentials=failed", "retrieve-accounts=pending", "retrieve-transactions=pending"}, j.statuses())
			res := j.step(t, "verify-credentials").result(t)
			assert.Equal(t, tc.code, res["code"])
			assert.NotEmpty(t, res["title"])
			assert.NotEmpty(t, res["detail"])
			st, _ := d.srv.Job(j.ID)
			assert.True(t, st.Done)
			assert.Equal(t, "statement", st.Operation)
			conn := d.a.send("GET", "/users/"+d.userID+"/connections/"+st.ConnectionID, d.tok, nil).JSON(t)
			assert.Equal(t, "invalid", conn["status"])
		})
	}
}

func TestStatementRequestValidation(t *testing.T) {
	d := newDataSetup(t)
	csv := []byte(statementCSV)
	e := requireError(t, d.a.upload(d.tok, d.userID, "AU00000", csv), http.StatusBadRequest, "institution-not-supported")
	assert.Contains(t, e.Data[0].Detail, "AU00000")
	requireError(t, d.a.upload(d.tok, d.userID, "", csv), http.StatusBadRequest, "parameter-not-supplied")
	requireError(t, d.a.upload(d.tok, d.userID, "AU10001", nil), http.StatusBadRequest, "parameter-not-supplied")
	requireError(t, d.a.upload(d.tok, d.userID, "AU99999", csv), http.StatusBadRequest, "parameter-not-valid")
	requireError(t, d.a.upload(d.tok, d.userID, "bank", csv), http.StatusBadRequest, "parameter-not-valid")
	r := d.a.send("POST", "/users/"+d.userID+"/statements", d.tok, map[string]string{"institutionId": "AU10001"})
	requireError(t, r, http.StatusUnsupportedMediaType, "unsupported-content-type")
	r = d.a.send("POST", "/users/"+d.userID+"/statements", d.tok, nil, "Content-Type", "multipart/form-data; boundary=x")
	requireError(t, r, http.StatusBadRequest, "invalid-content")
	requireError(t, d.a.upload(d.tok, "6a52015e-0000-4000-8000-000000000000", "AU10001", csv), http.StatusNotFound, "resource-not-found")
	requireMatchesSchema(t, "data.json", specSchema(t, "data.json", "/users/{userId}/statements", "post", "400", "application/json"),
		d.a.upload(d.tok, d.userID, "AU00000", csv).Body)
}
