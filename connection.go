package basiq

import (
	"encoding/json"
	"time"
)

// ConnectionStatus is a connection's status. Unknown values are kept.
type ConnectionStatus string

// Connection statuses (basiq-api.md §4.4).
const (
	ConnectionPending ConnectionStatus = "pending" // created, credentials not yet verified
	ConnectionActive  ConnectionStatus = "active"
	ConnectionInvalid ConnectionStatus = "invalid" // the user must act (new password, bank popup)
	ConnectionPreInit ConnectionStatus = "pre-init"
)

// Connection is a user's link to one institution.
type Connection struct {
	Type        string
	ID          string
	Status      ConnectionStatus // SERVER_ACCESS tokens only
	CreatedDate time.Time        // SERVER_ACCESS tokens only
	LastUsed    time.Time        // when Basiq last refreshed it; SERVER_ACCESS tokens only
	MFAEnabled  bool
	Method      string    // v3: "web", "openbanking" (also seen as "open-banking"), ...
	ExpiryDate  time.Time // v3 open-banking consents; zero for web connections
	Institution ResourceRef
	Profile     *Profile  // Get only
	Accounts    []Account // Get only
	Links       ConnectionLinks
}

// ConnectionLinks are a connection's links.
type ConnectionLinks struct {
	Self         string
	User         string
	Accounts     string
	Transactions string
	Institution  string
}

// Profile is the account holder's profile as the bank shows it.
type Profile struct {
	FullName       string   `json:"fullName"`
	FirstName      string   `json:"firstName"`
	LastName       string   `json:"lastName"`
	MiddleName     string   `json:"middleName"`
	PhoneNumbers   []string `json:"phoneNumbers"`
	EmailAddresses []string `json:"emailAddresses"`
}

// UnmarshalJSON decodes a connection leniently.
func (c *Connection) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type        lenientString     `json:"type"`
		ID          lenientString     `json:"id"`
		Status      lenientString     `json:"status"`
		CreatedDate lenientTime       `json:"createdDate"`
		LastUsed    lenientTime       `json:"lastUsed"`
		MFAEnabled  lenientBool       `json:"mfaEnabled"`
		Method      lenientString     `json:"method"`
		ExpiryDate  lenientTime       `json:"expiryDate"`
		Institution ResourceRef       `json:"institution"`
		Profile     *Profile          `json:"profile"`
		Accounts    listData[Account] `json:"accounts"`
		Links       struct {
			Self         lenientString `json:"self"`
			User         lenientString `json:"user"`
			Accounts     lenientString `json:"accounts"`
			Transactions lenientString `json:"transactions"`
			Institution  lenientString `json:"institution"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = Connection{
		Type: string(aux.Type), ID: string(aux.ID), Status: ConnectionStatus(aux.Status),
		CreatedDate: time.Time(aux.CreatedDate), LastUsed: time.Time(aux.LastUsed),
		MFAEnabled: bool(aux.MFAEnabled), Method: string(aux.Method), ExpiryDate: time.Time(aux.ExpiryDate),
		Institution: aux.Institution, Profile: aux.Profile, Accounts: aux.Accounts,
		Links: ConnectionLinks{
			Self: string(aux.Links.Self), User: string(aux.Links.User), Accounts: string(aux.Links.Accounts),
			Transactions: string(aux.Links.Transactions), Institution: string(aux.Links.Institution),
		},
	}
	return nil
}
