package directory

import (
	"bytes"
	"context"
	"testing"
)

// FuzzImportUnits: any CSV an operator uploads is imported or refused row by
// row with a message; it never crashes and never breaks the store.
func FuzzImportUnits(f *testing.F) {
	f.Add([]byte("kind,name_vi,local_part,notes\nprovince_agency,Sở Khoa học và Công nghệ,skhcn,x\n"))
	f.Add([]byte("kind,name_vi,local_part\nsub_unit,Phòng Hạ tầng,ht.skhcn\ncommune,Xã Mường Bú,muongbu\n"))
	f.Add([]byte("\ufeffkind,name_vi,local_part\n\"unterminated"))
	d, _ := newService(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d.ImportUnits(context.Background(), bytes.NewReader(b), "fuzz")
	})
}
