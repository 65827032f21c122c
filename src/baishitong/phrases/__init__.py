"""常用答复语: standard reply phrases that handlers insert into a reply and then edit."""
