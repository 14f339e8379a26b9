package target

import (
	"bytes"
	"html"
	"strings"
)

// htmlForm is one <form> of a page, as a login needs it: where it goes,
// how, and its fields in document order.
type htmlForm struct {
	Action, Method string
	Fields         []htmlField
}

// htmlField is an <input>, <button> or <select> of a form.
type htmlField struct {
	Tag, Name, Type, Value string
}

// parseForms reads the forms of an HTML page. It is a small tokenizer,
// not a full HTML parser: it knows tags, quoted and unquoted attributes,
// character references, comments and the raw text of <script>, <style>
// and <textarea>, which is what finding a login form's fields takes.
func parseForms(page []byte) []htmlForm {
	var forms []htmlForm
	var cur *htmlForm
	s := page
	for {
		i := bytes.IndexByte(s, '<')
		if i < 0 {
			break
		}
		s = s[i:]
		if bytes.HasPrefix(s, []byte("<!--")) {
			end := bytes.Index(s[4:], []byte("-->"))
			if end < 0 {
				break
			}
			s = s[4+end+3:]
			continue
		}
		name, attrs, rest, ok := readTag(s)
		if !ok {
			s = s[1:]
			continue
		}
		s = rest
		switch name {
		case "script", "style", "textarea":
			// Raw text up to the closing tag: no tags inside.
			end := bytes.Index(bytes.ToLower(s), []byte("</"+name))
			if end < 0 {
				s = nil
				continue
			}
			s = s[end:]
		case "form":
			forms = append(forms, htmlForm{Action: attrs["action"], Method: strings.ToUpper(attrs["method"])})
			cur = &forms[len(forms)-1]
		case "/form":
			cur = nil
		case "input", "button", "select":
			if cur == nil {
				continue
			}
			typ := strings.ToLower(attrs["type"])
			switch {
			case name == "input" && typ == "":
				typ = "text"
			case name == "button" && typ == "":
				typ = "submit"
			}
			if _, disabled := attrs["disabled"]; disabled {
				continue
			}
			cur.Fields = append(cur.Fields, htmlField{Tag: name, Name: attrs["name"], Type: typ, Value: attrs["value"]})
		}
	}
	return forms
}

// readTag reads the tag s starts with ("<name attr=value ...>"): its
// lower-case name ("/form" for an end tag), its attributes (names lower
// case, values with character references decoded) and what follows it.
func readTag(s []byte) (string, map[string]string, []byte, bool) {
	i := 1
	end := i < len(s) && s[i] == '/'
	if end {
		i++
	}
	j := i
	for j < len(s) && (isLetter(s[j]) || (j > i && (s[j] >= '0' && s[j] <= '9' || s[j] == '-'))) {
		j++
	}
	if j == i {
		return "", nil, nil, false
	}
	name := strings.ToLower(string(s[i:j]))
	if end {
		name = "/" + name
	}
	attrs := map[string]string{}
	k := j
	for k < len(s) {
		for k < len(s) && (isSpace(s[k]) || s[k] == '/') {
			k++
		}
		if k >= len(s) {
			break
		}
		if s[k] == '>' {
			return name, attrs, s[k+1:], true
		}
		a := k
		for k < len(s) && !isSpace(s[k]) && s[k] != '=' && s[k] != '>' && s[k] != '/' {
			k++
		}
		key := strings.ToLower(string(s[a:k]))
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		val := ""
		if k < len(s) && s[k] == '=' {
			k++
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			if k < len(s) && (s[k] == '"' || s[k] == '\'') {
				q := s[k]
				e := bytes.IndexByte(s[k+1:], q)
				if e < 0 {
					return "", nil, nil, false
				}
				val = string(s[k+1 : k+1+e])
				k += e + 2
			} else {
				v := k
				for k < len(s) && !isSpace(s[k]) && s[k] != '>' {
					k++
				}
				val = string(s[v:k])
			}
		}
		if _, dup := attrs[key]; !dup && key != "" {
			attrs[key] = html.UnescapeString(val)
		}
	}
	return "", nil, nil, false
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isSpace(b byte) bool  { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

// usernameNames are the names login forms give their user field, most
// telling first.
var usernameNames = []string{"username", "login", "email", "user", "identifier", "j_username", "loginfmt", "user_name", "userid"}

// loginForm picks the form holding a password field and fills it: the
// password into that field, the user into the field named like a user
// field (else the first text or email field before the password); hidden
// fields keep their values, and the first submit button that has a name
// is sent as clicked. ok is false when the page has no password field.
func loginForm(forms []htmlForm, user, password string) (htmlForm, [][2]string, bool) {
	for _, f := range forms {
		pw := -1
		for i, fl := range f.Fields {
			if fl.Type == "password" && fl.Name != "" {
				pw = i
				break
			}
		}
		if pw < 0 {
			continue
		}
		userField := -1
		for _, want := range usernameNames {
			for i, fl := range f.Fields {
				if i != pw && strings.EqualFold(fl.Name, want) && (fl.Type == "text" || fl.Type == "email") {
					userField = i
					break
				}
			}
			if userField >= 0 {
				break
			}
		}
		if userField < 0 {
			for i := pw - 1; i >= 0; i-- {
				if fl := f.Fields[i]; fl.Name != "" && (fl.Type == "text" || fl.Type == "email") {
					userField = i
					break
				}
			}
		}
		return f, fillForm(f, map[int]string{pw: password, userField: user}), true
	}
	return htmlForm{}, nil, false
}

// fillForm lists the values a browser would submit for f, with the
// fields of set (by index) given those values and the first named submit
// button clicked.
func fillForm(f htmlForm, set map[int]string) [][2]string {
	var vals [][2]string
	clicked := false
	for i, fl := range f.Fields {
		if fl.Name == "" {
			continue
		}
		if v, ok := set[i]; ok {
			vals = append(vals, [2]string{fl.Name, v})
			continue
		}
		switch fl.Type {
		case "submit", "image":
			if !clicked {
				clicked = true
				vals = append(vals, [2]string{fl.Name, fl.Value})
			}
		case "checkbox", "radio", "reset", "file", "button":
			// Unchecked by default; not sent.
		default:
			if fl.Tag != "select" {
				vals = append(vals, [2]string{fl.Name, fl.Value})
			}
		}
	}
	return vals
}
