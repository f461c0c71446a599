package workdays

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// HolidaysFile is the name, in the data directory, of the working-day
// calendar as the operators edited it (C3, C4): every table of the calendar in
// the format of holidays-vn.csv, written whole after each edit.
const HolidaysFile = "holidays.csv"

// LoadFile loads the operators' calendar file of dataDir over c; each year in
// the file replaces the shipped or computed one (LoadCSV). A missing file is
// no error: nobody has edited the calendar yet. A file that does not parse is:
// deadlines counted with a calendar other than the operators' would be wrong
// without a word.
func (c *Calendar) LoadFile(dataDir string) error {
	if dataDir == "" {
		return nil
	}
	name := filepath.Join(dataDir, HolidaysFile)
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("calendar: %w", err)
	}
	defer f.Close()
	if err := c.LoadCSV(f); err != nil {
		return fmt.Errorf("calendar %s: %w", name, err)
	}
	return nil
}

// SaveFile writes the whole calendar to HolidaysFile in dataDir through a
// temporary file and a rename, so that a crash never leaves half a calendar
// for the next start to load.
func (c *Calendar) SaveFile(dataDir string) error {
	f, err := os.CreateTemp(dataDir, "."+HolidaysFile+".*")
	if err != nil {
		return fmt.Errorf("calendar file: %w", err)
	}
	tmp := f.Name()
	// Nothing is left to remove once the rename is done.
	defer os.Remove(tmp)
	bw := bufio.NewWriter(f)
	err = c.WriteCSV(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dataDir, HolidaysFile))
	}
	if err != nil {
		return fmt.Errorf("calendar file: %w", err)
	}
	// The rename itself is durable once the directory is synced; a file system
	// that cannot sync a directory still has the file.
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
