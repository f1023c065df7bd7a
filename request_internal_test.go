package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpointCase is one SDK call and the exact request it must send.
type endpointCase struct {
	name     string
	v21Only  bool   // the call exists on API version 2.1 only
	method   string // expected request
	path     string // escaped
	query    string // exact raw query
	reqBody  string // exact JSON body; "" for none
	userID   string // the call uses a CLIENT_ACCESS token bound to this user
	status   int    // the fake's answer
	response func(t *testing.T) string
	call     func(ctx context.Context, c *Client) (any, error)
	check    func(t *testing.T, got any)
}

func recorded(name string) func(t *testing.T) string {
	return func(t *testing.T) string { return coreExample(t, name) }
}

func inline(body string) func(t *testing.T) string {
	return func(*testing.T) string { return body }
}

// filterQuery0 is how a filter statement travels: one "filter" parameter,
// query-escaped.
func filterQuery0(filter string) string { return "filter=" + url.QueryEscape(filter) }

const institutionsJSON = `{"type":"list","totalCount":3,"data":[
 {"type":"institution","id":"AU00000","name":"Hooli Bank","shortName":"Hooli","tier":"4","country":"Australia","status":"operational","stage":"live","authorization":"user"},
 {"type":"institution","id":"AU00001","name":"Pied Piper Bank","shortName":"Pied Piper","tier":"1","country":"Australia","status":"major-outage","stage":"live","authorization":"user-mfa"},
 {"type":"institution","id":"AU00002","name":"Nucleus Credit Union","shortName":"Nucleus","tier":"2","country":"Australia","status":"under-improvement","stage":"live","authorization":"user"}],
 "links":{"self":"https://au-api.basiq.io/institutions"}}`

const connectorJSON = `{"type":"connector","id":"AU00000","method":"web","stage":"beta","status":"operational",
 "scopes":["customer.person.basic"],
 "authorization":{"type":"user","meta":{"login_id_caption":"User name","password_caption":"Password"}},
 "institution":{"type":"Bank","name":"Hooli Bank","shortName":"Hooli","tier":"1","country":"Australia",
   "logo":{"type":"image","colors":{"primary":"#000000"},"links":{"full":"https://cdn/AU00000-full.svg","square":"https://cdn/AU00000.svg"}}},
 "stats":{"averageDurationMs":{"verifyCredentials":8154,"retrieveAccounts":3820,"retrieveTransactions":7127,"retrieveMeta":12487,"total":31588}},
 "links":{"self":"https://au-api.basiq.io/connectors/AU00000/web"}}`

func endpointCases() []endpointCase {
	jobStub := func(id string) func(t *testing.T, got any) {
		return func(t *testing.T, got any) {
			job := got.(*Job)
			assert.Equal(t, id, job.ID)
			assert.Equal(t, "job", job.Type)
			assert.Equal(t, "https://au-api.basiq.io/jobs/"+id, job.Links.Self)
			assert.Empty(t, job.Steps)
			assert.False(t, job.Reused)
		}
	}
	return []endpointCase{
		// Users
		{
			name: "Users.Create", method: http.MethodPost, path: "/users", status: http.StatusCreated,
			reqBody:  `{"email":"gavin1224@hooli.com","mobile":"+61410888999","firstName":"Gavin","lastName":"Belson"}`,
			response: recorded("user__postUser.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Users.Create(ctx, UserParams{Email: "gavin1224@hooli.com", Mobile: "+61410888999", FirstName: "Gavin", LastName: "Belson"})
			},
			check: func(t *testing.T, got any) {
				u := got.(*User)
				assert.Equal(t, "86c79d8c-5033-46b3-b16e-d6cee4200fb3", u.ID)
				assert.Equal(t, "gavin1224@hooli.com", u.Email)
			},
		},
		{
			name: "Users.Create email only", method: http.MethodPost, path: "/users", status: http.StatusCreated,
			reqBody:  `{"email":"a@example.com"}`,
			response: inline(`{"type":"user","id":"u-new","email":"a@example.com"}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Users.Create(ctx, UserParams{Email: "a@example.com"})
			},
			check: func(t *testing.T, got any) { assert.Equal(t, "u-new", got.(*User).ID) },
		},
		{
			name: "Users.Get", method: http.MethodGet, path: "/users/" + exUserID, status: http.StatusOK,
			response: recorded("user__getUser.json"),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Users.Get(ctx, exUserID) },
			check: func(t *testing.T, got any) {
				u := got.(*User)
				assert.Equal(t, exUserID, u.ID)
				assert.Len(t, u.Accounts, 8)
				require.Len(t, u.Connections, 1)
				assert.Equal(t, exConnID, u.Connections[0].ID)
			},
		},
		{
			name: "Users.Update", method: http.MethodPost, path: "/users/" + exUserID, status: http.StatusOK,
			reqBody:  `{"mobile":"+61410888666"}`,
			response: recorded("user__updateUser.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Users.Update(ctx, exUserID, UserParams{Mobile: "+61410888666"})
			},
			check: func(t *testing.T, got any) { assert.Equal(t, "+61410888666", got.(*User).Mobile) },
		},
		{
			name: "Users.Delete", method: http.MethodDelete, path: "/users/" + exUserID, status: http.StatusNoContent,
			response: inline(""),
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Users.Delete(ctx, exUserID)
			},
		},
		// Jobs
		{
			name: "Jobs.Get", method: http.MethodGet, path: "/jobs/b1ef29c9-3f8c-45c9-a823-d819605989c6", status: http.StatusOK,
			response: recorded("jobs__getJob.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Jobs.Get(ctx, "b1ef29c9-3f8c-45c9-a823-d819605989c6")
			},
			check: func(t *testing.T, got any) {
				job := got.(*Job)
				assert.Equal(t, JobSucceeded, job.Status())
				assert.Equal(t, exConnID, job.ConnectionID())
			},
		},
		{
			name: "Jobs.List", method: http.MethodGet, path: "/users/5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1/jobs", status: http.StatusOK,
			response: recorded("jobs__getJobs.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Jobs.List(ctx, "5b3532e0-23c7-48cb-b7a4-ff37f46c3eb1", nil)
			},
			check: func(t *testing.T, got any) {
				jobs := got.([]Job)
				require.Len(t, jobs, 1)
				assert.Equal(t, "a826e470-83d5-482a-b19f-bb44985c14bb", jobs[0].ID)
			},
		},
		{
			name: "Jobs.List empty filter", method: http.MethodGet, path: "/users/u1/jobs", status: http.StatusOK,
			response: recorded("jobs__getJobsEmpty.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Jobs.List(ctx, "u1", &JobFilter{})
			},
			check: func(t *testing.T, got any) { assert.Empty(t, got.([]Job)) },
		},
		{
			name: "Jobs.List by connection", method: http.MethodGet, path: "/users/" + exUserID + "/jobs", status: http.StatusOK,
			query:    "filter=connection.id.eq%28%2764011b56-988a-4c2c-bfca-16c836cec23f%27%29",
			response: recorded("jobs__getJobs.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Jobs.List(ctx, exUserID, &JobFilter{ConnectionID: exConnID})
			},
			check: func(t *testing.T, got any) { assert.Len(t, got.([]Job), 1) },
		},
		{
			name: "Jobs.SubmitMFA", method: http.MethodPost, path: "/jobs/25689822-63db-4e51-bb67-6091c2d4f2e9/mfa", status: http.StatusAccepted,
			userID: exUserID, reqBody: `{"mfa-response":["Basiq","AU00000"]}`,
			response: recorded("jobs__postMfa.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Jobs.SubmitMFA(ctx, exUserID, "25689822-63db-4e51-bb67-6091c2d4f2e9", []string{"Basiq", "AU00000"})
			},
			check: jobStub("25689822-63db-4e51-bb67-6091c2d4f2e9"),
		},
		// Connections
		{
			name: "Connections.Create", v21Only: true, method: http.MethodPost, path: "/users/" + exUserID + "/connections", status: http.StatusAccepted,
			reqBody:  `{"loginId":"gavinBelson","password":"hooli2016","institution":{"id":"AU00000"}}`,
			response: recorded("connections__createConnection.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Create(ctx, exUserID, Credentials{InstitutionID: "AU00000", LoginID: "gavinBelson", Password: "hooli2016"})
			},
			check: jobStub("fa521b1b-0031-4644-8885-7ed125e659c1"),
		},
		{
			name: "Connections.Create all fields", v21Only: true, method: http.MethodPost, path: "/users/u1/connections", status: http.StatusAccepted,
			reqBody:  `{"loginId":"l","password":"p","securityCode":"123","secondaryLoginId":"s2","institution":{"id":"AU00002"}}`,
			response: inline(`{"type":"job","id":"j1","links":{"self":"https://au-api.basiq.io/jobs/j1"}}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Create(ctx, "u1", Credentials{InstitutionID: "AU00002", LoginID: "l", Password: "p", SecurityCode: "123", SecondaryLoginID: "s2"})
			},
			check: jobStub("j1"),
		},
		{
			name: "Connections.Get", method: http.MethodGet, path: "/users/" + exUserID + "/connections/" + exConnID, status: http.StatusOK,
			response: recorded("connections__getConnection.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Get(ctx, exUserID, exConnID)
			},
			check: func(t *testing.T, got any) {
				conn := got.(*Connection)
				assert.Equal(t, exConnID, conn.ID)
				assert.Equal(t, ConnectionActive, conn.Status)
			},
		},
		{
			name: "Connections.List", method: http.MethodGet, path: "/users/" + exUserID + "/connections", status: http.StatusOK,
			response: recorded("connections__getConnections.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.List(ctx, exUserID, nil)
			},
			check: func(t *testing.T, got any) {
				conns := got.([]Connection)
				require.Len(t, conns, 1)
				assert.Equal(t, exConnID, conns[0].ID)
			},
		},
		{
			name: "Connections.List filtered", method: http.MethodGet, path: "/users/" + exUserID + "/connections", status: http.StatusOK,
			query:    filterQuery0("status.eq('active'),institution.id.eq('AU00000')"),
			response: recorded("connections__getConnectionsEmpty.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.List(ctx, exUserID, &ConnectionFilter{Status: ConnectionActive, InstitutionID: "AU00000"})
			},
			check: func(t *testing.T, got any) { assert.Empty(t, got.([]Connection)) },
		},
		{
			name: "Connections.List by institution", method: http.MethodGet, path: "/users/u1/connections", status: http.StatusOK,
			query:    "filter=institution.id.eq%28%27AU00000%27%29",
			response: inline(`{"type":"list","data":[]}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.List(ctx, "u1", &ConnectionFilter{InstitutionID: "AU00000"})
			},
		},
		{
			name: "Connections.Refresh 202 new job", method: http.MethodPost, path: "/users/" + exUserID + "/connections/" + exConnID + "/refresh", status: http.StatusAccepted,
			response: recorded("connections__refreshConnection.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Refresh(ctx, exUserID, exConnID)
			},
			check: jobStub("df9e9086-0354-42ea-afb2-6df2e45c4eae"),
		},
		{
			name: "Connections.Refresh 200 running job", method: http.MethodPost, path: "/users/u1/connections/c1/refresh", status: http.StatusOK,
			response: inline(`{"type":"job","id":"running-1","links":{"self":"https://au-api.basiq.io/jobs/running-1"}}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Refresh(ctx, "u1", "c1")
			},
			check: func(t *testing.T, got any) {
				job := got.(*Job)
				assert.Equal(t, "running-1", job.ID)
				assert.True(t, job.Reused, "200 means the API handed back the job already running")
			},
		},
		{
			name: "Connections.RefreshAll", method: http.MethodPost, path: "/users/" + exUserID + "/connections/refresh", status: http.StatusAccepted,
			response: recorded("connections__refreshConnections.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.RefreshAll(ctx, exUserID)
			},
			check: func(t *testing.T, got any) {
				jobs := got.([]Job)
				require.Len(t, jobs, 1)
				assert.Equal(t, "92791915-6f34-4895-80e5-9ea1a2273ec6", jobs[0].ID)
			},
		},
		{
			name: "Connections.Update", v21Only: true, method: http.MethodPost, path: "/users/" + exUserID + "/connections/" + exConnID, status: http.StatusAccepted,
			reqBody:  `{"password":"new-password"}`,
			response: recorded("connections__updateConnection.json"),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Update(ctx, exUserID, exConnID, CredentialsUpdate{Password: "new-password"})
			},
			check: jobStub("aff7df1f-20ba-4c9a-8af3-f3c62280047c"),
		},
		{
			name: "Connections.Update all fields", v21Only: true, method: http.MethodPost, path: "/users/u1/connections/c1", status: http.StatusAccepted,
			reqBody:  `{"password":"p","securityCode":"9","secondaryLoginId":"s"}`,
			response: inline(`{"type":"job","id":"j2","links":{"self":"https://au-api.basiq.io/jobs/j2"}}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connections.Update(ctx, "u1", "c1", CredentialsUpdate{Password: "p", SecurityCode: "9", SecondaryLoginID: "s"})
			},
			check: jobStub("j2"),
		},
		{
			name: "Connections.Delete", method: http.MethodDelete, path: "/users/" + exUserID + "/connections/" + exConnID, status: http.StatusNoContent,
			response: inline(""),
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Connections.Delete(ctx, exUserID, exConnID)
			},
		},
		// Institutions and connectors
		{
			name: "Institutions.List", method: http.MethodGet, path: "/institutions", status: http.StatusOK,
			response: recorded("institutions__getInstitutions.json"),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Institutions.List(ctx, nil) },
			check:    func(t *testing.T, got any) { assert.Empty(t, got.([]Institution)) },
		},
		{
			name: "Institutions.List all", method: http.MethodGet, path: "/institutions", status: http.StatusOK,
			response: inline(institutionsJSON),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Institutions.List(ctx, &InstitutionFilter{})
			},
			check: func(t *testing.T, got any) { assert.Len(t, got.([]Institution), 3) },
		},
		{
			name: "Institutions.List filtered", method: http.MethodGet, path: "/institutions", status: http.StatusOK,
			query:    filterQuery0("institution.country.eq('Australia'),institution.tier.in('1','2','4'),institution.stage.eq('live'),institution.authorization.in('user','user-mfa')"),
			response: inline(institutionsJSON),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Institutions.List(ctx, &InstitutionFilter{
					Country: []string{"Australia"}, Tier: []string{"1", "2", "4"}, Stage: []string{"live"},
					Authorization: []string{"user", "user-mfa"},
					Status:        []InstitutionStatus{StatusOperational, StatusMajorOutage},
					Name:          "  BANK ",
				})
			},
			check: func(t *testing.T, got any) {
				ins := got.([]Institution)
				require.Len(t, ins, 2, "status and name filter client-side")
				assert.Equal(t, "AU00000", ins[0].ID)
				assert.Equal(t, "AU00001", ins[1].ID)
			},
		},
		{
			name: "Institutions.List by short name", method: http.MethodGet, path: "/institutions", status: http.StatusOK,
			response: inline(institutionsJSON),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Institutions.List(ctx, &InstitutionFilter{Name: "nucleus"})
			},
			check: func(t *testing.T, got any) {
				ins := got.([]Institution)
				require.Len(t, ins, 1)
				assert.Equal(t, "AU00002", ins[0].ID)
			},
		},
		{
			name: "Institutions.List maintenance aliases", method: http.MethodGet, path: "/institutions", status: http.StatusOK,
			response: inline(institutionsJSON),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Institutions.List(ctx, &InstitutionFilter{Status: []InstitutionStatus{StatusUnderMaintenance}})
			},
			check: func(t *testing.T, got any) {
				ins := got.([]Institution)
				require.Len(t, ins, 1, "under-improvement is treated as under-maintenance (DESIGN §4.6)")
				assert.Equal(t, "AU00002", ins[0].ID)
			},
		},
		{
			name: "Institutions.Get", method: http.MethodGet, path: "/institutions/AU00000", status: http.StatusOK,
			response: recorded("institutions__getInstitution.json"),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Institutions.Get(ctx, "AU00000") },
			check: func(t *testing.T, got any) {
				in := got.(*Institution)
				assert.Equal(t, "Hooli Bank", in.Name)
				assert.Equal(t, StatusOperational, in.Status)
			},
		},
		{
			name: "Connectors.List", method: http.MethodGet, path: "/connectors", status: http.StatusOK,
			response: inline(`{"type":"list","totalCount":1,"data":[` + connectorJSON + `],"links":{"self":"https://au-api.basiq.io/connectors"}}`),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Connectors.List(ctx, nil) },
			check: func(t *testing.T, got any) {
				cs := got.([]Connector)
				require.Len(t, cs, 1)
				assert.Equal(t, "AU00000", cs[0].ID)
			},
		},
		{
			name: "Connectors.List filtered", method: http.MethodGet, path: "/connectors", status: http.StatusOK,
			query: filterQuery0("connector.method.eq('web'),connector.status.in('operational','degraded-performance'),connector.stage.eq('live')," +
				"connector.institution.tier.eq('1'),connector.institution.country.eq('Australia')"),
			response: inline(`{"type":"list","totalCount":2,"data":[` + connectorJSON + `,{"type":"connector","id":"AU00001","method":"web","institution":{"name":"Pied Piper Bank","shortName":"Pied Piper"}}]}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Connectors.List(ctx, &ConnectorFilter{
					Method: []string{"web"}, Status: []InstitutionStatus{StatusOperational, StatusDegradedPerformance},
					Stage: []string{"live"}, Tier: []string{"1"}, Country: []string{"Australia"}, Name: "hool",
				})
			},
			check: func(t *testing.T, got any) {
				cs := got.([]Connector)
				require.Len(t, cs, 1, "name filters client-side")
				assert.Equal(t, "Hooli", cs[0].Institution.ShortName)
			},
		},
		{
			name: "Connectors.Get", method: http.MethodGet, path: "/connectors/AU00000/web", status: http.StatusOK,
			response: inline(connectorJSON),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Connectors.Get(ctx, "AU00000", "web") },
			check: func(t *testing.T, got any) {
				cn := got.(*Connector)
				assert.Equal(t, "AU00000", cn.ID)
				assert.Equal(t, "web", cn.Method)
				assert.Equal(t, StatusOperational, cn.Status)
				assert.Equal(t, []string{"customer.person.basic"}, cn.Scopes)
				assert.Equal(t, "user", cn.Authorization.Type)
				assert.Equal(t, "User name", cn.Authorization.Meta["login_id_caption"])
				assert.Equal(t, "Hooli Bank", cn.Institution.Name)
				assert.Equal(t, "#000000", cn.Institution.Logo.PrimaryColor)
				assert.Equal(t, "https://cdn/AU00000.svg", cn.Institution.Logo.Square)
				assert.Equal(t, 8154*time.Millisecond, cn.AverageDuration.VerifyCredentials)
				assert.Equal(t, 31588*time.Millisecond, cn.AverageDuration.Total)
				assert.Equal(t, "https://au-api.basiq.io/connectors/AU00000/web", cn.Links.Self)
			},
		},
	}
}

func TestEndpoints(t *testing.T) {
	for _, v := range []APIVersion{V3, V2_1} {
		t.Run(string(v), func(t *testing.T) {
			for _, tc := range endpointCases() {
				if tc.v21Only && v != V2_1 {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					a := newCoreAPI(t)
					a.handle(tc.method, tc.path, tc.status, tc.response(t))
					c := newCoreClient(t, a, WithAPIVersion(v))
					got, err := tc.call(context.Background(), c)
					require.NoError(t, err)
					if tc.check != nil {
						tc.check(t, got)
					}

					api := a.apiRequests()
					require.Len(t, api, 1)
					r := api[0]
					assert.Equal(t, tc.method, r.Method)
					assert.Equal(t, tc.path, r.Path)
					assert.Equal(t, tc.query, r.RawQuery)
					if tc.reqBody != "" {
						assert.Equal(t, tc.reqBody, string(r.Body))
					}

					toks := a.tokenRequests()
					require.Len(t, toks, 1)
					bearer := "server-token-1"
					switch {
					case tc.userID == "":
						assertTokenRequest(t, toks[0], v, "scope=SERVER_ACCESS")
					case v == V3:
						assertTokenRequest(t, toks[0], v, "scope=CLIENT_ACCESS&userId="+url.QueryEscape(tc.userID))
						bearer = "client-token-" + tc.userID + "-1"
					default:
						assertTokenRequest(t, toks[0], v, "scope=CLIENT_ACCESS")
						bearer = "client-token--1"
					}
					assertAPIHeaders(t, r, bearer, tc.reqBody != "")
				})
			}
		})
	}
}

func TestRouteMissingForVersion(t *testing.T) {
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/institutions", http.StatusNotFound,
		coreEnvelope("resource-not-found", "Requested resource is not found", "Route not found for this API version"))
	c := newCoreClient(t, a)
	_, err := c.Institutions.List(context.Background(), nil)
	assert.ErrorIs(t, err, ErrUnsupportedVersion)
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.Len(t, a.apiRequests(), 1, "a 404 is not retried")
}

func TestDeleteRetriedIntoNotFoundSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newCoreAPI(t)
		var calls int
		a.onFunc("DELETE /users/u1/connections/c1", func(req *http.Request) *http.Response {
			calls++
			if calls == 1 {
				return coreJSON(503, `{"type":"list","data":[{"code":"service-unavailable","title":"Unavailable"}]}`)
			}
			return coreJSON(404, `{"type":"list","data":[{"code":"resource-not-found","title":"Not found"}]}`)
		})
		a.on("DELETE /users/u2", 404, `{"type":"list","data":[{"code":"resource-not-found","title":"Not found"}]}`)
		c := newCoreClient(t, a)
		assert.NoError(t, c.Connections.Delete(t.Context(), "u1", "c1"), "the 503'd attempt may have deleted it")
		assert.Equal(t, 2, calls)
		assert.ErrorIs(t, c.Users.Delete(t.Context(), "u2"), ErrNotFound, "a first-attempt 404 is still an error")
	})
}

func TestTransportErrorsCarryNoURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens: every request fails to connect
	var logs bytes.Buffer
	c, err := NewClient("a2V5OnNlY3JldA==", WithBaseURL("http://"+addr), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	c.tokens.store(authServer, "", Token{AccessToken: "tok", ExpiresAt: time.Now().Add(time.Hour)})
	err = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/users/u-1/statements/PATH-SECRET-ID",
		Query: map[string][]string{"code": {"QUERY-SECRET"}}}, nil)
	require.Error(t, err)
	for _, out := range []string{err.Error(), logs.String()} {
		assert.NotContains(t, out, "QUERY-SECRET")
		assert.NotContains(t, out, "PATH-SECRET-ID")
	}
	assert.Contains(t, err.Error(), "connection refused", "the cause is kept")
}

func TestDeleteAfterThrottlingThen404IsAnError(t *testing.T) {
	for _, tc := range []struct {
		first     int
		wantError bool
	}{{http.StatusTooManyRequests, true}, {http.StatusServiceUnavailable, false}} {
		t.Run(fmt.Sprint(tc.first), func(t *testing.T) {
			a := newCoreAPI(t)
			c := newCoreClient(t, a)
			n := 0
			a.handleFunc("DELETE", "/users/"+consentUser+"/consents/typo", func(*http.Request) (*http.Response, error) {
				if n++; n == 1 {
					return coreJSON(tc.first, coreEnvelope("x", "x", "x")), nil
				}
				return coreJSON(404, coreEnvelope("resource-not-found", "Not found", "Consent not found")), nil
			})
			err := c.Consents.Revoke(t.Context(), consentUser, "typo")
			if tc.wantError {
				assert.ErrorIs(t, err, ErrNotFound, "a throttled attempt deleted nothing: the consent never existed")
			} else {
				assert.NoError(t, err, "the 503'd attempt may have deleted it")
			}
		})
	}
}

func TestPreCancelledContextSendsNothing(t *testing.T) {
	a := newCoreAPI(t)
	c := newCoreClient(t, a)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Token(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.Consents.URL(ctx, consentUser, nil)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.Jobs.Get(ctx, "j")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, a.all(), "not even POST /token (it carries the API key)")
}

// The accounts and transactions calls against Basiq's v3 Data spec
// (testdata/basiq-spec/v3/data.json): each request's method, path and
// parameters are the spec's, and the types decode the spec's response
// schemas (every documented member, with the spec's examples) without
// losing a value.

type specDoc struct {
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Parameters  []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
}

func loadDataSpec(t *testing.T) specDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "basiq-spec", "v3", "data.json"))
	require.NoError(t, err, "the v3 Data spec belongs in testdata (testdata/README.md)")
	var d specDoc
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// matchSpecPath finds the spec path template matching an escaped path.
func matchSpecPath(d specDoc, method, escaped string) (string, map[string]string, bool) {
	segs := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for tmpl, ops := range d.Paths {
		if _, ok := ops[strings.ToLower(method)]; !ok {
			continue
		}
		ts := strings.Split(strings.TrimPrefix(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, s := range ts {
			v, _ := url.PathUnescape(segs[i])
			if strings.HasPrefix(s, "{") {
				params[strings.Trim(s, "{}")] = v
			} else if s != v {
				ok = false
				break
			}
		}
		if ok {
			return tmpl, params, true
		}
	}
	return "", nil, false
}

func TestDataRequestsMatchSpec(t *testing.T) {
	d := loadDataSpec(t)
	a := newCoreAPI(t)
	a.handle(http.MethodGet, "/users/u-1/accounts", 200, `{"type":"list","data":[]}`)
	a.handle(http.MethodGet, "/users/u-1/accounts/s55bf3", 200, `{"type":"account","id":"s55bf3"}`)
	a.handle(http.MethodGet, "/users/u-1/transactions", 200, pageJSON("", "t1"))
	a.handle(http.MethodGet, "/users/u-1/transactions/t1", 200, txJSON("t1"))
	c := newCoreClient(t, a)
	ctx := context.Background()
	_, err := c.Accounts.List(ctx, "u-1", &AccountFilter{ConnectionID: "c1", InstitutionID: "AU00000", AccountID: "s55bf3"})
	require.NoError(t, err)
	_, err = c.Accounts.Get(ctx, "u-1", "s55bf3")
	require.NoError(t, err)
	_, errs := collectTx(c.Transactions.All(ctx, "u-1", &TransactionFilter{AccountID: "s55bf3", Status: TransactionPosted,
		Direction: DirectionCredit, Class: ClassTransfer, InstitutionID: "AU00000",
		From: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2018, 2, 26, 0, 0, 0, 0, time.UTC)}), 0)
	require.Empty(t, errs)
	_, err = c.Transactions.Get(ctx, "u-1", "t1")
	require.NoError(t, err)

	wantOps := []string{"getAccounts", "getAccount", "getTransactions", "getTransaction"}
	var gotOps []string
	for _, r := range a.apiRequests() {
		tmpl, params, ok := matchSpecPath(d, r.Method, r.Path)
		require.True(t, ok, "%s %s is not in the spec", r.Method, r.Path)
		op := d.Paths[tmpl][strings.ToLower(r.Method)]
		gotOps = append(gotOps, op.OperationID)
		declared := map[string]string{}
		for _, p := range op.Parameters {
			declared[p.Name] = p.In
		}
		for name := range params {
			assert.Equal(t, "path", declared[name], "%s: path parameter %s", op.OperationID, name)
		}
		q, err := url.ParseQuery(r.RawQuery)
		require.NoError(t, err)
		for name := range q {
			assert.Equal(t, "query", declared[name], "%s: query parameter %s is not in the spec", op.OperationID, name)
		}
		if f := q.Get("filter"); f != "" {
			assertFilterFieldsDocumented(t, op.OperationID, f)
		}
	}
	assert.Equal(t, wantOps, gotOps)
}

// assertFilterFieldsDocumented checks a filter's properties against the
// ones the spec's filter parameter lists (and connection.id, which Basiq's
// own links use on transactions).
func assertFilterFieldsDocumented(t *testing.T, op, filter string) {
	documented := map[string][]string{
		"getAccounts":     {"account.id", "connection.id", "institution.id"},
		"getTransactions": {"account.id", "transaction.postDate", "transaction.status", "institution.id", "transaction.direction", "transaction.class", "connection.id"},
	}[op]
	for _, stmt := range splitStatements(filter) {
		head, _, _ := strings.Cut(stmt, "(")
		prop := head[:strings.LastIndexByte(head, '.')]
		assert.Contains(t, documented, prop, "%s filter %q", op, stmt)
	}
}

func splitStatements(f string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range f {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, f[start:i])
				start = i + 1
			}
		}
	}
	return append(out, f[start:])
}

// ---------------------------------------------------------------------------
// Decoding the spec's schemas without losing data

type schema struct {
	Type       string             `json:"type"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Example    json.RawMessage    `json:"example"`
	Enum       []json.RawMessage  `json:"enum"`
}

// specSchema returns the 200 schema of an operation (for lists, of its items).
func specSchema(t *testing.T, d specDoc, path string, list bool) *schema {
	var s schema
	raw := d.Paths[path]["get"].Responses["200"].Content["application/json"].Schema
	require.NoError(t, json.Unmarshal(raw, &s))
	if list {
		return s.Properties["data"].Items
	}
	return &s
}

// dateMembers are documented as dates or timestamps; an instance carries a
// distinct valid one.
var dateMembers = map[string]bool{"postDate": true, "transactionDate": true, "lastUpdated": true, "creationDate": true,
	"from": true, "to": true, "startDate": true, "endDate": true, "paymentDueDate": true, "lodgementDate": true, "maturityDate": true,
	"nextInstalmentDate": true, "createdDate": true, "expiresAt": true}

// instance builds a document with every member of s. With examples, a
// member takes the spec's example where it has one; otherwise each leaf gets
// a value unique to its path, so that a value found after decoding can only
// have come from its own member.
func instance(s *schema, path string, examples bool, n *int) any {
	*n++
	switch {
	case len(s.Properties) > 0:
		m := map[string]any{}
		for k, p := range s.Properties {
			m[k] = instance(p, path+"."+k, examples, n)
		}
		return m
	case s.Items != nil:
		return []any{instance(s.Items, path+"[0]", examples, n)}
	}
	if examples && len(s.Example) > 0 && string(s.Example) != "null" {
		var v any
		_ = json.Unmarshal(s.Example, &v)
		return v
	}
	last := path[strings.LastIndexAny(path, ".]")+1:]
	switch {
	case dateMembers[last]:
		return time.Date(2000+*n%30, time.Month(1+*n%12), 1+*n%28, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	case s.Type == "boolean":
		return false // the decoded default (isOwned) is true: false must survive
	case s.Type == "integer" || s.Type == "number":
		return 1000 + *n
	case len(s.Enum) > 0:
		var v any
		_ = json.Unmarshal(s.Enum[*n%len(s.Enum)], &v)
		return v
	}
	return "v" + path
}

// leaves lists a document's leaf values as text, by path.
func leaves(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			leaves(e, path+"."+k, out)
		}
	case []any:
		for i, e := range x {
			leaves(e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case nil:
	default:
		out[path] = leafText(x)
	}
}

func leafText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%f", x), "0000"), ".00")
	}
	return fmt.Sprint(v)
}

// decodedTexts collects every value reachable in a decoded Go value as text:
// strings, bools, numbers, times (as RFC 3339 and as dates) and the leaves of
// raw JSON (Extra, Meta).
func decodedTexts(v reflect.Value, out map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			decodedTexts(v.Elem(), out)
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			if !t.IsZero() {
				out[t.Format(time.RFC3339)], out[t.Format("2006-01-02")] = true, true
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				decodedTexts(v.Field(i), out)
			}
		}
	case reflect.Slice:
		if raw, ok := v.Interface().(json.RawMessage); ok {
			var doc any
			if json.Unmarshal(raw, &doc) == nil {
				m := map[string]string{}
				leaves(doc, "", m)
				for _, s := range m {
					out[s] = true
				}
			}
			return
		}
		for i := range v.Len() {
			decodedTexts(v.Index(i), out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			decodedTexts(v.MapIndex(k), out)
		}
	case reflect.String:
		out[v.String()] = true
	case reflect.Bool:
		out[fmt.Sprint(v.Bool())] = true
	}
}

func TestDataTypesDecodeSpecWithoutLoss(t *testing.T) {
	d := loadDataSpec(t)
	for _, tc := range []struct {
		name   string
		schema *schema
		decode func(b []byte) (any, error)
	}{
		{"account", specSchema(t, d, "/users/{userId}/accounts/{accountId}", false), func(b []byte) (any, error) {
			var a Account
			return a, json.Unmarshal(b, &a)
		}},
		{"account in list", specSchema(t, d, "/users/{userId}/accounts", true), func(b []byte) (any, error) {
			var l listOf[Account]
			err := json.Unmarshal([]byte(`{"data":[`+string(b)+`]}`), &l)
			if err != nil || len(l.Data) != 1 {
				return nil, fmt.Errorf("%d accounts, %v", len(l.Data), err)
			}
			return l.Data[0], nil
		}},
		{"transaction", specSchema(t, d, "/users/{userId}/transactions/{transactionId}", false), func(b []byte) (any, error) {
			var tx Transaction
			return tx, json.Unmarshal(b, &tx)
		}},
		{"transaction in a page", specSchema(t, d, "/users/{userId}/transactions", true), func(b []byte) (any, error) {
			txs, errs, err := pageTransactions([]byte(`{"type":"list","data":[` + string(b) + `]}`))
			if err != nil || len(txs) != 1 {
				return nil, fmt.Errorf("%d items, %v", len(txs), err)
			}
			return txs[0], errs[0]
		}},
	} {
		for _, examples := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/examples=%v", tc.name, examples), func(t *testing.T) {
				n := 0
				doc := instance(tc.schema, "", examples, &n)
				b, err := json.Marshal(doc)
				require.NoError(t, err)
				got, err := tc.decode(b)
				require.NoError(t, err)
				texts := map[string]bool{}
				decodedTexts(reflect.ValueOf(got), texts)
				want := map[string]string{}
				leaves(doc, "", want)
				require.NotEmpty(t, want)
				var lost []string
				for path, v := range want {
					if !texts[v] {
						lost = append(lost, path+"="+v)
					}
				}
				slices.Sort(lost)
				assert.Empty(t, lost, "members of the spec whose values did not survive decoding")
				// Only members the types do not model are in Extra.
				switch x := got.(type) {
				case Account:
					assert.Empty(t, x.Extra, "every documented account member has a field (meta is kept raw)")
					assert.NotEmpty(t, x.Meta)
				case Transaction:
					assert.Empty(t, x.Extra, "every documented transaction member has a field")
				}
			})
		}
	}
}

func TestSpecFilesAreInTheRepository(t *testing.T) {
	for _, p := range []string{
		"testdata/README.md",
		"testdata/basiq-spec/v2.1/swagger.json",
		"testdata/basiq-spec/v2.1/examples/jobs__getJob.json",
		"testdata/basiq-spec/v3/core.json",
		"testdata/basiq-spec/v3/data.json",
		"testdata/basiq-spec/v3/webhooks.json",
		"testdata/basiq-spec/v3/reporting.json",
		"testdata/basiq-spec/v3/enrich.json",
		"testdata/basiq-spec/v3/identity.json",
		"testdata/basiq-spec/v3/affordability.json",
	} {
		_, err := os.Stat(filepath.FromSlash(p))
		assert.NoError(t, err, "a clean clone must have %s", p)
	}
}
