package health

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/units"
	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
)

// CPUSample is how long cpu:utilization measures the CPU.
const CPUSample = 200 * time.Millisecond

// diskUtilization measures the filesystem of BACKUP_DIR (of its nearest
// existing parent before the first backup creates it), in % used, and
// its free space against the last backup's size.
func (d Deps) diskUtilization(ctx context.Context) Result {
	dir, err := existingDir(d.BackupDir)
	if err != nil {
		return d.failed(KeyDiskUtilization, "cannot find BACKUP_DIR or a parent of it", err)
	}
	u, err := disk.UsageWithContext(ctx, dir)
	if err != nil {
		return d.failed(KeyDiskUtilization, "cannot read the free space of BACKUP_DIR's filesystem", err)
	}
	h := d.Thresholds
	used := round1(u.UsedPercent)
	st, out := diskStatus(used, int64(u.Free), d.lastBackupSize(ctx), h.DiskWarn, h.DiskFail)
	return Result{Status: st, Output: out, ObservedValue: used, ObservedUnit: "%",
		Threshold: percentThreshold(h.DiskWarn, h.DiskFail) + fmt.Sprintf("; fail when free < %d× the last backup", FreeSpaceFactor)}
}

// lastBackupSize is the size of the newest backup file of d.Database,
// whatever its status (the next one will be about as large), or 0 when
// unknown. A storage that cannot be listed is backups:age's to report.
func (d Deps) lastBackupSize(ctx context.Context) int64 {
	if d.Backups == nil {
		return 0
	}
	l, err := d.Backups.List(ctx)
	if err != nil {
		return 0
	}
	for _, b := range l.Backups {
		// Only copies on a disk (file destinations) need room on one.
		if b.Destination != "" && !strings.HasPrefix(b.Destination, backup.DefaultDestination) {
			continue
		}
		if b.Database() == d.Database && b.Size > 0 {
			return b.Size
		}
	}
	return 0
}

// existingDir is dir, or its nearest parent that exists: BACKUP_DIR is
// created by the first backup, and will live on its parent's filesystem.
func existingDir(dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	p, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	for {
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		parent := filepath.Dir(p)
		if !errors.Is(err, fs.ErrNotExist) || parent == p {
			return "", fmt.Errorf("stat %s: %w", p, err)
		}
		p = parent
	}
}

// memoryUtilization is the system's memory in use (total − available),
// in %.
func (d Deps) memoryUtilization(ctx context.Context) Result {
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return d.failed(KeyMemoryUtilization, "cannot read the system's memory", err)
	}
	h := d.Thresholds
	used := round1(v.UsedPercent)
	res := Result{Status: percentStatus(used, h.MemoryWarn, h.MemoryFail), ObservedValue: used, ObservedUnit: "%",
		Threshold: percentThreshold(h.MemoryWarn, h.MemoryFail),
		Output:    units.Bytes(int64(v.Total-v.Available)) + " of " + units.Bytes(int64(v.Total)) + " in use"}
	if res.Status != Pass {
		res.Output += ": find the process using it (top), or add memory"
	}
	return res
}

// cpuUtilization samples the CPU for CPUSample, in % of all cores; its
// output gives the 1-minute load average per core.
func (d Deps) cpuUtilization(ctx context.Context) Result {
	pcts, err := cpu.PercentWithContext(ctx, CPUSample, false)
	if err != nil || len(pcts) == 0 {
		return d.failed(KeyCPUUtilization, "cannot sample the CPU", err)
	}
	h := d.Thresholds
	used := round1(pcts[0])
	res := Result{Status: percentStatus(used, h.CPUWarn, h.CPUFail), ObservedValue: used, ObservedUnit: "%",
		Threshold: percentThreshold(h.CPUWarn, h.CPUFail), Output: loadPerCore(ctx)}
	if res.Status != Pass {
		res.Output += ": find the busy process (top); a backup or restore drill running now explains a peak"
	}
	return res
}

// loadPerCore describes the 1-minute load average per logical core.
func loadPerCore(ctx context.Context) string {
	cores, err := cpu.CountsWithContext(ctx, true)
	if err != nil || cores < 1 {
		return "load average unknown"
	}
	avg, err := load.AvgWithContext(ctx)
	if err != nil {
		return "load average not available on this system"
	}
	return fmt.Sprintf("load %.2f per core (1-minute load %.2f on %d cores)", avg.Load1/float64(cores), avg.Load1, cores)
}
