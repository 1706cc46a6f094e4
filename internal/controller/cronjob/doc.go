// Package cronjob is the CronJob controller: it creates a Job from a
// CronJob's template at each time its cron schedule names.
//
// The schedule is five fields (minute, hour, day of month, month, day of
// week) with lists, ranges, steps and names, or a macro (@yearly,
// @monthly, @weekly, @daily, @hourly), read in spec.timeZone, a CRON_TZ=
// prefix or the controller's local zone. After downtime the controller
// starts only the most recent missed run (within startingDeadlineSeconds),
// and reports TooManyMissedTimes past 100 missed runs. concurrencyPolicy
// decides whether a run may overlap a running Job (Allow), is skipped
// (Forbid) or replaces it (Replace). Finished Jobs beyond the history
// limits are deleted.
//
// Time is an input: the controller reads a clock.Clock and its queue waits
// on the same clock, so tests drive schedules with a fake clock.
package cronjob
