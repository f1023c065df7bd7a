package basiq

import (
	"context"
	"strings"
)

// diagnose runs Diagnose, first looking up the institution's current status
// (one cached GET /institutions/{id}) when the failure is an availability one
// and opts has no status. *instID is the institution when known; if empty it
// is found from the job's connection (one GET) and stored back.
func (c *Client) diagnose(ctx context.Context, job *Job, opts DiagnoseOptions, instID *string) Diagnosis {
	d := Diagnose(job, opts)
	if opts.InstitutionStatus != "" || !availabilityCode(strings.ToLower(d.Code)) || d.Action == ActionWaitForBasiqRetry {
		return d
	}
	if *instID == "" {
		if user, conn := job.owner(); user != "" && conn != "" {
			if cn, err := c.Connections.Get(ctx, user, conn); err == nil {
				*instID = cn.Institution.ID
			}
		}
	}
	if *instID == "" {
		return d
	}
	inst, err := c.Institutions.cached(ctx, *instID)
	if err != nil || inst.Status == "" {
		return d
	}
	opts.InstitutionStatus = inst.Status
	return Diagnose(job, opts)
}
