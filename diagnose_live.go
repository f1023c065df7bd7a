package basiq

import "context"

// diagnose runs Diagnose, first looking up the institution's current status
// (one cached GET /institutions/{id}) when opts has none and the answer
// depends on it. *instID is the institution when known; if empty it is found
// from the job's connection (one GET) and stored back.
func (c *Client) diagnose(ctx context.Context, job *Job, opts DiagnoseOptions, instID *string) Diagnosis {
	d := Diagnose(job, opts)
	if opts.InstitutionStatus != "" || !statusMatters(job, opts) {
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

// statusMatters reports whether the institution's status changes the
// diagnosis of job: the table of DESIGN.md §4.4 is asked with the two
// statuses at its ends rather than restated here.
func statusMatters(job *Job, opts DiagnoseOptions) bool {
	opts.InstitutionStatus = StatusMajorOutage
	outage := Diagnose(job, opts)
	opts.InstitutionStatus = StatusOperational
	fine := Diagnose(job, opts)
	return outage.Action != fine.Action || outage.RetryAfter != fine.RetryAfter
}
