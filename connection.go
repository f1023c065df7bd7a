package basiq

import (
	"encoding/json"
	"time"
)

// ConnectionStatus is a connection's status. Unknown values are kept.
type ConnectionStatus string

// Connection statuses Basiq documents.
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
	FullName          string    `json:"fullName"`
	FirstName         string    `json:"firstName"`
	LastName          string    `json:"lastName"`
	MiddleName        string    `json:"middleName"`
	PhoneNumbers      []string  `json:"phoneNumbers"`
	EmailAddresses    []string  `json:"emailAddresses"`
	PhysicalAddresses []Address `json:"physicalAddresses"`
}

// UnmarshalJSON decodes a profile leniently: a field of an unexpected shape
// is left empty rather than failing the connection.
func (p *Profile) UnmarshalJSON(b []byte) error {
	var aux struct {
		FullName          lenientString         `json:"fullName"`
		FirstName         lenientString         `json:"firstName"`
		LastName          lenientString         `json:"lastName"`
		MiddleName        lenientString         `json:"middleName"`
		PhoneNumbers      lenientStrings        `json:"phoneNumbers"`
		EmailAddresses    lenientStrings        `json:"emailAddresses"`
		PhysicalAddresses lenientSlice[Address] `json:"physicalAddresses"`
	}
	if json.Unmarshal(b, &aux) != nil {
		*p = Profile{}
		return nil
	}
	*p = Profile{
		FullName: string(aux.FullName), FirstName: string(aux.FirstName), LastName: string(aux.LastName),
		MiddleName: string(aux.MiddleName), PhoneNumbers: aux.PhoneNumbers, EmailAddresses: aux.EmailAddresses,
		PhysicalAddresses: aux.PhysicalAddresses,
	}
	return nil
}

// Address is a postal address as the bank shows it.
type Address struct {
	AddressLine1     string
	AddressLine2     string
	AddressLine3     string
	Postcode         string
	City             string
	State            string
	Country          string
	CountryCode      string
	FormattedAddress string // the whole address on one line, as the bank formats it
}

// UnmarshalJSON decodes an address leniently (null lines, numeric postcodes).
func (a *Address) UnmarshalJSON(b []byte) error {
	var aux struct {
		AddressLine1     lenientString `json:"addressLine1"`
		AddressLine2     lenientString `json:"addressLine2"`
		AddressLine3     lenientString `json:"addressLine3"`
		Postcode         lenientString `json:"postcode"`
		City             lenientString `json:"city"`
		State            lenientString `json:"state"`
		Country          lenientString `json:"country"`
		CountryCode      lenientString `json:"countryCode"`
		FormattedAddress lenientString `json:"formattedAddress"`
	}
	if json.Unmarshal(b, &aux) != nil {
		*a = Address{}
		return nil
	}
	*a = Address{
		AddressLine1: string(aux.AddressLine1), AddressLine2: string(aux.AddressLine2), AddressLine3: string(aux.AddressLine3),
		Postcode: string(aux.Postcode), City: string(aux.City), State: string(aux.State), Country: string(aux.Country),
		CountryCode: string(aux.CountryCode), FormattedAddress: string(aux.FormattedAddress),
	}
	return nil
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
	if err := json.Unmarshal(b, &aux); err != nil && !memberTypeError(err) {
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
