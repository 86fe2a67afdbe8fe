package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// decode reads a JSON body strictly into v: one JSON value, no unknown
// fields. A body that is empty or only whitespace is an error.
func decode(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if isBlank(b) {
		return badField("body", "request body is empty")
	}
	return unmarshal(b, v)
}

// decodeOptional is decode for a body that may be left out: a body that is
// empty or only whitespace, however it was sent (no body, Content-Length:
// 0, or chunked with no data), leaves v as it is.
func decodeOptional(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil || isBlank(b) {
		return err
	}
	return unmarshal(b, v)
}

// readBody reads the whole body, which ServeHTTP bounds to MaxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badField("body", "reading the request body: %v", err)
	}
	return b, nil
}

func isBlank(b []byte) bool { return len(bytes.Trim(b, jsonSpace)) == 0 }

// unmarshal decodes the JSON value in b into v and turns the decoder's
// errors into field errors in API terms: they name the JSON field and the
// JSON kinds, never a Go type.
func unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return badField("body", "invalid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return typeError(b, v, te)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badField("body", "invalid JSON: the body ends inside a value")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(name, "unknown field")
		}
		return badField("body", "%v", err)
	}
	if !isBlank(b[dec.InputOffset():]) {
		return badField("body", "unexpected data after the JSON value")
	}
	return nil
}

// typeError describes a JSON value of the wrong kind. The decoder's error
// names the field without array indices and the Go type it wanted, so the
// body is walked again to find the value with its full path ("[2].value",
// "matchers[0].name"); if the walk cannot tell (a type that decodes
// itself), the decoder's own path is used.
func typeError(b []byte, v any, te *json.UnmarshalTypeError) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if m, _ := walkValue(dec, reflect.TypeOf(v), ""); m != nil {
		return badField(fieldName(m.path), "want %s, got %s", m.want, m.got)
	}
	got := "a different kind of value"
	switch kind, num, _ := strings.Cut(te.Value, " "); kind {
	case "string", "object", "array", "number":
		got = article(kind)
		if num != "" {
			got = num
		}
	case "bool":
		got = "a boolean"
	}
	return badField(fieldName(te.Field), "want %s, got %s", wantOf(te.Type), got)
}

// mismatch is a JSON value that does not fit where it is: its path, the
// kind of value wanted there and what was sent.
type mismatch struct {
	path, want, got string
}

func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func article(kind string) string {
	if kind == "object" || kind == "array" {
		return "an " + kind
	}
	return "a " + kind
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// walkValue reads one JSON value from dec and returns the first value in it
// (in document order, as the decoder reports) that does not fit t, or nil.
// It follows encoding/json's rules for the kinds request bodies use: null
// fits anything, object keys match struct fields case-insensitively, and
// unknown fields are left to the decoder. Values of types that decode
// themselves, and of interface types, are skipped.
func walkValue(dec *json.Decoder, t reflect.Type, path string) (*mismatch, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface ||
		reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil, dec.Decode(new(json.RawMessage))
	}
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	bad := func(got string) (*mismatch, error) { return &mismatch{path: path, want: wantOf(t), got: got}, nil }
	switch tok := tok.(type) {
	case json.Delim:
		switch {
		case tok == '{' && t.Kind() == reflect.Struct:
			return walkObject(dec, path, func(key string) (reflect.Type, string) {
				if f, ok := structField(t, key); ok {
					return f.Type, jsonName(f)
				}
				return nil, ""
			})
		case tok == '{' && t.Kind() == reflect.Map:
			return walkObject(dec, path, func(key string) (reflect.Type, string) { return t.Elem(), key })
		case tok == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			return walkArray(dec, t, path)
		case tok == '{':
			return bad("an object")
		default:
			return bad("an array")
		}
	case string:
		if t.Kind() == reflect.String || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8) {
			return nil, nil
		}
		return bad("a string")
	case bool:
		if t.Kind() == reflect.Bool {
			return nil, nil
		}
		return bad(strconv.FormatBool(tok))
	case json.Number:
		s := string(tok)
		var err error
		switch t.Kind() {
		case reflect.Float32, reflect.Float64:
			_, err = strconv.ParseFloat(s, t.Bits())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			_, err = strconv.ParseInt(s, 10, t.Bits())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			_, err = strconv.ParseUint(s, 10, t.Bits())
		default:
			return bad("a number")
		}
		var ne *strconv.NumError
		switch {
		case err == nil:
			return nil, nil
		case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange):
			return bad(s + ", which is out of range")
		}
		return bad(s)
	}
	return nil, nil
}

// walkObject walks the members of an object whose '{' was read; field
// gives each key's type and the name its path uses (nil: not checked).
func walkObject(dec *json.Decoder, path string, field func(key string) (reflect.Type, string)) (*mismatch, error) {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		t, name := field(key)
		if t == nil {
			if err := dec.Decode(new(json.RawMessage)); err != nil {
				return nil, err
			}
			continue
		}
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		if m, err := walkValue(dec, t, sub); m != nil || err != nil {
			return m, err
		}
	}
	_, err := dec.Token()
	return nil, err
}

// walkArray walks the elements of an array whose '[' was read.
func walkArray(dec *json.Decoder, t reflect.Type, path string) (*mismatch, error) {
	for i := 0; dec.More(); i++ {
		var err error
		if t.Kind() == reflect.Array && i >= t.Len() {
			// encoding/json drops what does not fit in a Go array.
			err = dec.Decode(new(json.RawMessage))
		} else {
			var m *mismatch
			if m, err = walkValue(dec, t.Elem(), path+"["+strconv.Itoa(i)+"]"); m != nil {
				return m, nil
			}
		}
		if err != nil {
			return nil, err
		}
	}
	_, err := dec.Token()
	return nil, err
}

// structField finds the field a JSON key decodes into: an exact name
// first, then one that differs only in case, as encoding/json does.
// Embedded structs are not looked into (no request body uses them).
func structField(t reflect.Type, key string) (reflect.StructField, bool) {
	var folded reflect.StructField
	found := false
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Tag.Get("json") == "-" {
			continue
		}
		switch name := jsonName(f); {
		case name == key:
			return f, true
		case !found && strings.EqualFold(name, key):
			folded, found = f, true
		}
	}
	return folded, found
}

func jsonName(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
		return name
	}
	return f.Name
}

// wantOf names, in JSON terms, the kind of value a Go type decodes from.
func wantOf(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another kind of value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Array:
		return "an array"
	}
	return "another kind of value"
}
