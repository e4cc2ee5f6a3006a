package dataset

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// table is one annotation sheet: an .xlsx worksheet or a .csv export of
// one, with its header row located and its columns indexed by name.
type table struct {
	file      string     // path of the file
	sheet     string     // worksheet name; "" for CSV
	rows      [][]string // every row of the sheet, from the first
	headerRow int        // index in rows of the header
	header    []string   // the header cells as written
	cols      map[string]int
}

// normHeader folds a header cell for matching: lower case, letters and
// digits only ("Onset Frame", "OnsetFrame" and "onset_frame" are equal).
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// col returns the index of the first column whose header matches one of
// the names, or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.cols[normHeader(n)]; ok {
			return i
		}
	}
	return -1
}

// cell returns the trimmed cell of data row r at column c ("" when absent).
func (t *table) cell(r, c int) string {
	if c < 0 || r >= len(t.rows) || c >= len(t.rows[r]) {
		return ""
	}
	return strings.TrimSpace(t.rows[r][c])
}

// where names the place of a cell for error messages, as a spreadsheet
// user finds it: file, sheet, 1-based row, column letter and header.
func (t *table) where(r, c int) string {
	var b strings.Builder
	b.WriteString(filepath.Base(t.file))
	if t.sheet != "" {
		fmt.Fprintf(&b, " sheet %q", t.sheet)
	}
	fmt.Fprintf(&b, " row %d", r+1)
	if c >= 0 {
		name, _ := excelize.ColumnNumberToName(c + 1)
		fmt.Fprintf(&b, " column %s", name)
		if c < len(t.header) && strings.TrimSpace(t.header[c]) != "" {
			fmt.Fprintf(&b, " (%s)", strings.TrimSpace(t.header[c]))
		}
	}
	return b.String()
}

// blankRow reports whether data row r has no content.
func (t *table) blankRow(r int) bool {
	for _, v := range t.rows[r] {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// headerSearchRows bounds the search for the header row: SAMM puts a notes
// block of about a dozen rows above it.
const headerSearchRows = 40

// readTable opens an .xlsx or .csv annotation file and finds the header
// row: the first row (within headerSearchRows) that holds every name in
// required. For workbooks, sheetName picks the worksheet (case-insensitive);
// "" takes the first worksheet with such a header.
func readTable(path, sheetName string, required ...string) (*table, error) {
	var sheets []*table
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		f, err := excelize.OpenFile(path, excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		defer f.Close()
		for _, name := range f.GetSheetList() {
			if sheetName != "" && !strings.EqualFold(strings.TrimSpace(name), sheetName) {
				continue
			}
			rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
			if err != nil {
				return nil, fmt.Errorf("%s sheet %q: %w", path, name, err)
			}
			sheets = append(sheets, &table{file: path, sheet: name, rows: rows})
		}
		if len(sheets) == 0 {
			return nil, fmt.Errorf("%s: no sheet named %q (sheets: %s)", path, sheetName, strings.Join(f.GetSheetList(), ", "))
		}
	case ".csv", ".txt":
		rows, err := readCSVRows(path)
		if err != nil {
			return nil, err
		}
		sheets = append(sheets, &table{file: path, rows: rows})
	default:
		return nil, fmt.Errorf("%s: unsupported sheet format (want .xlsx or .csv)", path)
	}
	for _, t := range sheets {
		if t.findHeader(required) {
			return t, nil
		}
	}
	where := filepath.Base(path)
	if len(sheets) == 1 && sheets[0].sheet != "" {
		where += fmt.Sprintf(" sheet %q", sheets[0].sheet)
	}
	return nil, fmt.Errorf("%s: no header row with columns %s in the first %d rows", where, strings.Join(required, ", "), headerSearchRows)
}

func (t *table) findHeader(required []string) bool {
	for r := 0; r < len(t.rows) && r < headerSearchRows; r++ {
		cols := map[string]int{}
		for c, v := range t.rows[r] {
			k := normHeader(v)
			if _, dup := cols[k]; k != "" && !dup {
				cols[k] = c
			}
		}
		ok := true
		for _, n := range required {
			if _, found := cols[normHeader(n)]; !found {
				ok = false
				break
			}
		}
		if ok {
			t.headerRow, t.header, t.cols = r, t.rows[r], cols
			return true
		}
	}
	return false
}

// readCSVRows reads a CSV export: byte-order mark dropped, ";" accepted as
// the separator when the first line uses it (spreadsheets in many locales
// export that way), ragged rows allowed.
func readCSVRows(path string) ([][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// parseFrame reads a frame number cell. Spreadsheets store numbers as
// numbers ("46", "46.0", "4.6E1") or as text ("046").
func parseFrame(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return 0, false
	}
	return int(f), true
}

// SheetError lists malformed cells of an annotation sheet, each with its
// file, sheet, row and column.
type SheetError struct {
	Problems []string
}

func (e *SheetError) Error() string {
	return fmt.Sprintf("%d malformed cell(s):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}
