// Package filterprocessor benchmarks contrib's filterprocessor on the records
// and conditions internal/selection's benchmarks use, so make bench can set
// the slack exporter's pre-queue filter beside it.
//
// It is its own module: the filterprocessor release that resolves from the
// module proxy here (v0.161.0; v0.162.0 to v0.165.1 need
// pkg/ottl/contexts/xprofile, which the proxy does not serve) pins older
// collector modules than the exporter's v0.165.0.
package filterprocessor
