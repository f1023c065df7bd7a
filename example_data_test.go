package basiq_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// connectedUser returns a client (API 3.0, the default) on an in-memory fake
// Basiq, and a user whose bank the Consent UI has connected: the job has
// retrieved the accounts and transactions.
func connectedUser(opts ...basiqtest.Option) (*basiq.Client, string, func()) {
	srv := basiqtest.NewServer(append([]basiqtest.Option{basiqtest.InMemory(), basiqtest.WithTimeScale(0)}, opts...)...)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	user, err := c.Users.Create(ctx, basiq.UserParams{Email: "gavin@hooli.com"})
	if err != nil {
		log.Fatal(err)
	}
	// What the Consent UI hands back in ?jobIds= after the user connects Hooli.
	jobID, err := srv.Connect(user.ID, "AU00000", "gavinBelson", "hooli2016")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Jobs.Wait(ctx, jobID, nil); err != nil {
		log.Fatal(err)
	}
	return c, user.ID, srv.Close
}

// List the accounts a connection retrieved, with the v3 details (holder,
// BSB, masked number, credit limit).
func ExampleAccountsService_List() {
	c, userID, stop := connectedUser()
	defer stop()
	ctx := context.Background()

	accounts, err := c.Accounts.List(ctx, userID, &basiq.AccountFilter{InstitutionID: "AU00000"})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range accounts {
		fmt.Printf("%-11s %-16s %s limit %s, held by %s\n", a.Class.Type, a.MaskedNumber, a.Balance, a.CreditLimit, a.AccountHolder)
	}
	// Output:
	// transaction xxxxx7919        3458.12 limit 0.00, held by GAVIN BELSON
	// savings     xxxxx7920        24871.50 limit 0.00, held by GAVIN BELSON
	// credit-card xxxxxxxxxxxx7921 -1530.42 limit 10000.00, held by GAVIN BELSON
}

// Stream every transaction of an account, page by page: only one page (500
// transactions) is in memory at a time, and breaking out of the loop stops
// fetching.
func ExampleTransactionsService_All() {
	c, userID, stop := connectedUser(basiqtest.WithTransactionsPerAccount(1200))
	defer stop()
	ctx := context.Background()

	accounts, err := c.Accounts.List(ctx, userID, nil)
	if err != nil {
		log.Fatal(err)
	}
	var pending, spent int
	filter := &basiq.TransactionFilter{AccountID: accounts[0].ID}
	for tx, err := range c.Transactions.All(ctx, userID, filter) {
		if err != nil {
			log.Fatal(err) // the last page that failed after retries, or a malformed one
		}
		if tx.Pending() {
			pending++ // pending ids change at every refresh: keep them apart
			continue
		}
		if tx.Direction == basiq.DirectionDebit {
			spent++
		}
	}
	fmt.Println("pending:", pending, "debits:", spent)

	// The first posted payment only: one request, whatever the total.
	for tx, err := range c.Transactions.All(ctx, userID, &basiq.TransactionFilter{
		AccountID: accounts[0].ID, Status: basiq.TransactionPosted, Class: basiq.ClassPayment,
	}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tx.Description, tx.Amount, tx.Enrich.Merchant.BusinessName)
		break
	}
	// Output:
	// pending: 3 debits: 818
	// GARFISH MANLY -154.39 Garfish Manly
}

// Call an endpoint the SDK does not wrap yet, with the same tokens, retries,
// typed errors and logging as the services.
func ExampleClient_Do() {
	c, userID, stop := connectedUser()
	defer stop()
	ctx := context.Background()

	var page struct {
		Count int               `json:"count"`
		Data  []json.RawMessage `json:"data"`
	}
	err := c.Do(ctx, &basiq.Request{
		Method: http.MethodGet,
		Path:   "/users/" + userID + "/transactions", // ids are escaped for you
		Query:  map[string][]string{"limit": {"5"}},
	}, &page)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("transactions on the first page:", page.Count)

	err = c.Do(ctx, &basiq.Request{Path: "/users/" + userID + "/transactions", Query: map[string][]string{"filter": {"bad"}}}, nil)
	var apiErr *basiq.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code(), apiErr.Errors[0].Source.Parameter, errors.Is(err, basiq.ErrInvalidInput))
	}
	// Output:
	// transactions on the first page: 5
	// 400 parameter-not-valid filter true
}
