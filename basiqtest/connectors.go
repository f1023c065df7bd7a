package basiqtest

import "net/http"

// Connector methods. DATA3 spells open banking "openbanking" in one place and
// "open-banking" in others; the fake reports "open-banking" and accepts both.
const (
	methodWeb         = "web"
	methodOpenBanking = "open-banking"
)

// connector is one (institution, method) pair.
type connector struct {
	inst   *institution
	method string
}

// connectorView is the wire form of a connector (basiq-api.md §5.3).
type connectorView struct {
	Type          string            `json:"type"`
	ID            string            `json:"id"`
	Method        string            `json:"method"`
	Stage         string            `json:"stage"`
	Status        string            `json:"status"`
	Scopes        []string          `json:"scopes"`
	Authorization connectorAuthView `json:"authorization"`
	Institution   connectorInstView `json:"institution"`
	Stats         statsView         `json:"stats"`
	Links         selfLink          `json:"links"`
}

type connectorAuthView struct {
	Type string            `json:"type"`
	Meta map[string]string `json:"meta"`
}

type connectorInstView struct {
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	ShortName string   `json:"shortName"`
	Tier      string   `json:"tier"`
	Country   string   `json:"country"`
	Logo      logoView `json:"logo"`
}

// connectors lists every connector, institution by institution.
func (s *Server) connectors() []connector {
	var out []connector
	for _, inst := range s.st.insts {
		out = append(out, connector{inst, methodWeb})
		if inst.OpenBanking {
			out = append(out, connector{inst, methodOpenBanking})
		}
	}
	return out
}

// authType is the connector's authorization.type: the institution's login
// kind on the web, "other" (the bank's consent flow) for open banking.
func (cn connector) authType() string {
	if cn.method == methodOpenBanking {
		return "other"
	}
	return cn.inst.Authorization
}

func (s *Server) connectorView(cn connector) connectorView {
	inst := cn.inst
	auth := connectorAuthView{Type: cn.authType(), Meta: map[string]string{
		"login_id_caption": inst.LoginIDCaption,
		"password_caption": inst.PasswordCaption,
	}}
	scopes := []string{"accounts", "transactions", "profile"}
	if cn.method == methodOpenBanking {
		auth.Meta = map[string]string{}
		scopes = []string{"bank:accounts.basic:read", "bank:transactions:read", "common:customer.basic:read"}
	} else {
		if inst.SecurityCodeCaption != "" {
			auth.Meta["security_code_caption"] = inst.SecurityCodeCaption
		}
		if inst.SecondaryLoginIDCaption != "" {
			auth.Meta["secondary_login_id_caption"] = inst.SecondaryLoginIDCaption
		}
		if inst.ForgottenPasswordURL != "" {
			auth.Meta["forgotten_password_url"] = inst.ForgottenPasswordURL
		}
	}
	return connectorView{
		Type:          "connector",
		ID:            inst.ID,
		Method:        cn.method,
		Stage:         inst.Stage,
		Status:        inst.Status,
		Scopes:        scopes,
		Authorization: auth,
		Institution: connectorInstView{
			Type:      inst.InstitutionType,
			Name:      inst.Name,
			ShortName: inst.ShortName,
			Tier:      inst.Tier,
			Country:   inst.Country,
			Logo:      logo(inst),
		},
		Stats: s.statsView(inst.Stats),
		Links: selfLink{Self: s.URL + "/connectors/" + inst.ID + "/" + cn.method},
	}
}

// connectorFields are the filterable properties of GET /connectors.
func connectorFields() map[string]func(connector) string {
	return map[string]func(connector) string{
		"connector.id":                  func(c connector) string { return c.inst.ID },
		"connector.method":              func(c connector) string { return c.method },
		"connector.status":              func(c connector) string { return c.inst.Status },
		"connector.stage":               func(c connector) string { return c.inst.Stage },
		"connector.authorization.type":  connector.authType,
		"connector.institution.country": func(c connector) string { return c.inst.Country },
		"connector.institution.tier":    func(c connector) string { return c.inst.Tier },
		"connector.institution.type":    func(c connector) string { return c.inst.InstitutionType },
	}
}

// listConnectors serves GET /connectors.
func (s *Server) listConnectors(c *call) reply {
	keep, ok := compileFilter(c.req.URL.Query().Get("filter"), connectorFields())
	if !ok {
		return errorReply(http.StatusBadRequest, errBadFilter())
	}
	out := listView[connectorView]{Type: "list", Data: []connectorView{}, Links: selfLink{Self: s.URL + "/connectors"}}
	for _, cn := range s.connectors() {
		if keep(cn) {
			out.Data = append(out.Data, s.connectorView(cn))
		}
	}
	out.TotalCount = len(out.Data)
	return jsonReply(http.StatusOK, out)
}

// getConnector serves GET /connectors/{connectorId}/{method}.
func (s *Server) getConnector(c *call) reply {
	method := c.param("method")
	if method == "openbanking" {
		method = methodOpenBanking
	}
	for _, cn := range s.connectors() {
		if cn.inst.ID == c.param("connectorId") && cn.method == method {
			return jsonReply(http.StatusOK, s.connectorView(cn))
		}
	}
	return errorReply(http.StatusNotFound, errNotFound("Requested connector does not exist."))
}
