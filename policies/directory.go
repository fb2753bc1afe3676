package policies

import (
	"gopkg.in/yaml.v3"
)

// maxGroupLen is the longest group name accepted (Entra allows 256).
const maxGroupLen = 256

// users decodes the directory; names, object ids and principal names must
// each be unique, since each of them finds a person.
func (d *decoder) users(n *yaml.Node, path string) []User {
	items, ok := d.list(n, path, "[{name: alice, id: ..., upn: alice@example.com}]")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errorf(deref(n), path, "is empty; list at least one user")
	}
	names, ids, upns := seen{}, seen{}, seen{}
	var out []User
	for i, item := range items {
		p := index(path, i)
		u, f, ok := d.user(item, p)
		if !ok {
			continue
		}
		names.check(d, f.get("name"), field(p, "name"), "name", u.Name)
		ids.check(d, f.get("id"), field(p, "id"), "object id", u.ID)
		upns.check(d, f.get("upn"), field(p, "upn"), "upn", u.UPN)
		out = append(out, u)
	}
	return out
}

// user decodes one person. Email defaults to the UPN, which in most tenants
// is the mailbox.
func (d *decoder) user(n *yaml.Node, path string) (User, fields, bool) {
	f, ok := d.mapping(n, path, userKeys...)
	if !ok {
		return User{}, f, false
	}
	var u User
	if v := d.need(f, "name", `give a short name such as "alice"`); v != nil {
		u.Name = d.label(v, field(path, "name"), userPattern, "lower-case letters, digits, '.', '_' and '-', starting with a letter")
	}
	if v := d.need(f, "id", "give the Entra object id, a GUID"); v != nil {
		u.ID = d.guid(v, field(path, "id"))
	}
	if v := d.need(f, "upn", `give the user principal name such as "alice@example.com"`); v != nil {
		u.UPN = d.upn(v, field(path, "upn"))
	}
	u.Email = u.UPN
	if v := f.get("email"); v != nil {
		u.Email = d.email(v, field(path, "email"))
	}
	if v := f.get("groups"); v != nil {
		for _, g := range d.names(v, field(path, "groups"), "[engineers, oncall]") {
			if s := d.text(g.node, g.path, maxGroupLen); s != "" {
				u.Groups = append(u.Groups, s)
			}
		}
	}
	return u, f, true
}

func (d *decoder) upn(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	if !upnPattern.MatchString(s) {
		d.errorf(deref(n), path, "%q is not a user principal name; expected name@domain such as \"alice@example.com\"", s)
		return ""
	}
	return s
}

func (d *decoder) email(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	if !emailAddress(s) {
		d.errorf(deref(n), path, "%q is not an email address; expected a bare address such as \"alice@example.com\"", s)
		return ""
	}
	return s
}
